"""Scoped reads of orders. API views, admin and reports read through these, never
`Order.objects` directly, so a principal can only ever see what it may see."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Sum

from oms.core.errors import NotFound
from oms.core.money import minor_units
from oms.core.queries import unique_or_none
from oms.events.models import EventQuerySet
from oms.events.selectors import events_for_stream
from orders.models import (
    ApiClient,
    Hold,
    HoldStatus,
    Order,
    OrderLine,
    OrderQuerySet,
    PaymentKind,
    PaymentTransaction,
    TransactionStatus,
)
from orders.payments.held import held_by_platform


def active_hold_exists(order_ref: str = "pk") -> Exists:
    """EXISTS (an active hold of the outer row's order): a per-row flag, not a read of holds.
    `order_ref` names the outer row's order id: "pk" on orders, "order_id" on an order's rows."""
    return Exists(Hold.objects.filter(order_id=OuterRef(order_ref), status=HoldStatus.ACTIVE))


def orders_visible_to_client(client: ApiClient) -> OrderQuerySet:
    return Order.objects.for_channel(client.channel_id).select_related("channel", "pickup_node")


def get_order_for_client(client: ApiClient, number: str) -> Order:
    """The order with `number` if the client's channel owns it; otherwise `order_not_found`
    (404), whether it does not exist or belongs to another channel: no existence leak."""
    order = unique_or_none(
        orders_visible_to_client(client)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("line_number")),
            Prefetch("holds", queryset=Hold.objects.order_by("id")),
        )
        .filter(number=number)
    )
    if order is None:
        raise NotFound(f"No order {number}.", code="order_not_found")
    return order


def order_events_for_client(client: ApiClient, number: str) -> EventQuerySet:
    order = get_order_for_client(client, number)
    return events_for_stream(order.stream)


def orders_for_staff() -> OrderQuerySet:
    """All orders, for admin users (staff see every channel; the admin applies permissions)."""
    return Order.objects.select_related("channel", "pickup_node")


@dataclass(frozen=True)
class PaymentFigures:
    authorized: Decimal
    captured: Decimal
    refunded: Decimal
    voided: Decimal
    pending_captures: Decimal
    pending_refunds: Decimal


def payment_figures(order: Order) -> PaymentFigures:
    """What the transactions add up to (exact stored amounts; see selectors.payment_summary).
    An order captured as already authorized by its channel has no authorize row: its
    authorization is the grand total. An order that came in paid at a platform that refunds
    it back has no capture row: its capture is the grand total (ADR 14)."""
    sums = {
        (kind, status): total or Decimal("0")
        for kind, status, total in PaymentTransaction.objects.filter(order_id=order.pk)
        .exclude(status=TransactionStatus.FAILED)
        .values_list("kind", "status")
        .annotate(total=Sum("amount"))
        .values_list("kind", "status", "total")
    }
    zero = Decimal("0")
    ok = TransactionStatus.SUCCEEDED
    pending = TransactionStatus.PENDING
    has_authorization = (PaymentKind.AUTHORIZE, ok) in sums
    captured = sums.get((PaymentKind.CAPTURE, ok), zero)
    if not sums.get((PaymentKind.CAPTURE, pending)) and not captured and held_by_platform(order):
        captured = order.grand_total  # taken by the sales platform (orders/payments/held.py)
    return PaymentFigures(
        authorized=sums[(PaymentKind.AUTHORIZE, ok)] if has_authorization else order.grand_total,
        captured=captured,
        refunded=sums.get((PaymentKind.REFUND, ok), zero),
        voided=sums.get((PaymentKind.VOID, ok), zero),
        pending_captures=sums.get((PaymentKind.CAPTURE, pending), zero),
        pending_refunds=sums.get((PaymentKind.REFUND, pending), zero),
    )


@dataclass(frozen=True)
class PaymentSummary:
    """An order's money in its currency, at the currency's minor units. `refundable` is what a
    refund may still take: captured less refunded less refunds in flight."""

    currency: str
    authorized: Decimal
    captured: Decimal
    refunded: Decimal
    refundable: Decimal
    voided: Decimal


def payment_summary(order: Order) -> PaymentSummary:
    figures = payment_figures(order)
    quantum = Decimal(1).scaleb(-minor_units(order.currency))

    def q(amount: Decimal) -> Decimal:
        return amount.quantize(quantum)

    return PaymentSummary(
        currency=order.currency,
        authorized=q(figures.authorized),
        captured=q(figures.captured),
        refunded=q(figures.refunded),
        refundable=q(figures.captured - figures.refunded - figures.pending_refunds),
        voided=q(figures.voided),
    )


def payment_transactions_of(order: Order) -> list[PaymentTransaction]:
    return list(PaymentTransaction.objects.filter(order_id=order.pk).order_by("id"))
