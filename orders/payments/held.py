"""A payment the sales platform holds (ADR 14): an order that came in already paid at its
platform (WooCommerce `processing`, Shopify `paid`), so oms never captured it and has no
provider of its own to refund it through.

Such an order's refund is still one `refund_payment()` call (returns, appeasements, the API all
go through it), with this provider in the place of the payment provider: it records that oms
refunded the amount, and the platform moves the money when the layer above sends it the
refund (channels: `order.payment_refunded` → the outbox → the platform's refund API with its
gateway refund on; a call that keeps failing is dead with a case a person resolves).

Only platforms that can pay a refund back take part: the layer above registers a check
(`register_platform_refunds`) saying whether an order's platform will. An order whose
platform cannot (Amazon, EDI buyers, or no outbound calls) is not refundable in oms, as before:
`refund_exceeds_captured`.
"""

from collections.abc import Callable
from decimal import Decimal

from orders.models import Order, PaymentKind, PaymentStatus, PaymentTransaction, TransactionStatus
from orders.payments.base import PaymentRefused, ProviderResult

PLATFORM = "platform"
_checks: list[Callable[[Order], bool]] = []


def register_platform_refunds(check: Callable[[Order], bool]) -> None:
    """`check(order)`: will the order's sales platform refund it when oms records a refund?"""
    if check not in _checks:
        _checks.append(check)


def held_by_platform(order: Order) -> bool:
    """The order came in paid (no oms authorization or capture of it, live or pending) and its
    platform refunds it back."""
    if order.payment_status not in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return False
    taken_by_oms = (
        PaymentTransaction.objects.filter(
            order_id=order.pk, kind__in=[PaymentKind.AUTHORIZE, PaymentKind.CAPTURE]
        )
        .exclude(status=TransactionStatus.FAILED)
        .exists()
    )
    return not taken_by_oms and any(check(order) for check in _checks)


class PlatformHeldPayment:
    """The provider of a payment the platform holds: refunds only. The reference names the
    refund for the platform call (`platform:<idempotency key>`), so the same key is one refund."""

    name = PLATFORM

    def _not_here(self, kind: str) -> PaymentRefused:
        return PaymentRefused(
            "payment_held_by_platform", f"The sales platform holds this payment: no {kind} here."
        )

    def authorize(
        self, *, order_number: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderResult:
        raise self._not_here("authorization")

    def capture(
        self,
        *,
        order_number: str,
        authorization: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        raise self._not_here("capture")

    def void(
        self,
        *,
        order_number: str,
        authorization: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        raise self._not_here("void")

    def refund(
        self,
        *,
        order_number: str,
        capture_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        return ProviderResult(
            reference=f"{PLATFORM}:{idempotency_key}"[:100], amount=amount, currency=currency
        )


PLATFORM_HELD = PlatformHeldPayment()
