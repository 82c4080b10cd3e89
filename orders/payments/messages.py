"""What a payment error code means, in words a person can act on.

A failed payment transaction or refund keeps the code it failed with (the provider's decline
code, `provider_unavailable` for no answer, or one of the payments service's refusals such as
`refund_exceeds_captured`) for machines: APIs, events, exception cases. Screens show
`describe_payment_error()` instead: a sentence for the codes we know, and for any other code
the provider's own message, or the code written out as words. Add a code here when a provider
adapter starts returning it.
"""

PAYMENT_ERROR_MESSAGES: dict[str, str] = {
    # decline codes (Stripe's names, which Adyen and Braintree map onto)
    "card_declined": "The card issuer declined the payment.",
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
    "do_not_honor": "The card issuer declined the payment without a reason.",
    "lost_card": "The card was reported lost.",
    "stolen_card": "The card was reported stolen.",
    "processing_error": "The payment provider had an error processing it.",
    "charge_already_refunded": "The provider says the charge is already refunded.",
    "charge_disputed": "The charge is disputed by the customer: it cannot be refunded now.",
    # outcomes of the payments service (orders/services/payments.py)
    "provider_unavailable": "The payment provider did not answer; it is tried again with the "
    "same key, so it can never be paid twice.",
    "refund_exceeds_captured": "More than is left of what was captured on the order.",
    "capture_exceeds_authorized": "More than is left of the authorization.",
    "payment_in_progress": "Another attempt with the same key is at work right now.",
    "idempotency_key_reused": "The same key was used before for a different amount or kind.",
    "payment_not_capturable": "The payment can no longer be captured.",
    "payment_not_voidable": "Something was captured already, so it cannot be voided.",
    "payment_not_authorizable": "The payment can no longer be authorized.",
    "invalid_amount": "The amount is not valid in the order's currency.",
}


def describe_payment_error(code: str, message: str = "") -> str:
    """A sentence for `code` ("" when there is no error)."""
    if code in PAYMENT_ERROR_MESSAGES:
        return PAYMENT_ERROR_MESSAGES[code]
    if message:
        return message
    if not code:
        return ""
    return code.replace("_", " ").capitalize() + "."
