"""Store-screen glue around the fulfillment services.

Every button on the store screens calls one fulfillment service (fulfillment/services/
feedback.py, labels.py) with the associate as actor and a FeedbackMessage whose id is the
form's idempotency token, so two POSTs of the same rendered form (a double tap) have one
effect: the second is recognised by the inbound message log and acknowledged.
"""

from typing import Any

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import FeedbackMessage
from fulfillment.services.labels import ship_with_carrier
from integrations.carriers.base import CarrierError
from integrations.models import InboundMessage, InboundStatus
from oms.core.actors import Actor
from oms.core.errors import DomainError


def store_message(user: Any, token: str, payload: dict[str, Any]) -> FeedbackMessage:
    """The feedback message of one submitted store form: who, which form render, what."""
    return FeedbackMessage(
        source=f"store:{user.get_username()}", message_id=str(token), payload=payload
    )


def ship_from_store(
    *, fulfillment_id: int, actor: Actor, message: FeedbackMessage
) -> FulfillmentOrder:
    """ "Print label & ship": ship_with_carrier() buys the label before its message log is
    consulted (the carrier call runs outside any transaction) and refuses to ship a shipped
    order, so a repeat of an already processed form is recognised here first and answered
    with the shipped order instead of a refusal."""
    already = InboundMessage.objects.filter(
        source=message.source, message_id=message.message_id, status=InboundStatus.PROCESSED
    ).exists()
    if already:
        return FulfillmentOrder.objects.get(pk=fulfillment_id)
    try:
        return ship_with_carrier(fulfillment_id=fulfillment_id, actor=actor, message=message)
    except CarrierError as exc:
        raise LabelNotBought(exc) from exc


class LabelNotBought(DomainError):
    """The carrier did not sell the label: nothing was shipped; the associate is told why."""

    def __init__(self, error: CarrierError) -> None:
        if error.retryable:
            detail = (
                "The carrier did not answer, so no label was bought and nothing was shipped. "
                "Try again in a minute."
            )
        else:
            detail = (
                f"The carrier refused the label ({error.message}). Nothing was shipped; ask "
                "operations to check the order's address."
            )
        super().__init__(code=f"carrier_{error.code}", detail=detail, http_status=409)
