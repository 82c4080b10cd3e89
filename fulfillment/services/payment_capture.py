"""Capture what shipped, one capture per fulfillment order (per shipment when the order split).

Orders owns the money (orders/services/payments.py) but not shipments, so this fulfillment
service works out each shipment's charge and asks for it. It runs once every live line has
shipped or been picked up (fulfillment/services/feedback.py schedules it; the sweeper re-sends
it), so cancelled units are never charged: a line is charged for the units that left a node.

A shipment's charge: for each of its lines, the shipped units' share of the line's total and
tax, allocated cumulatively over the line's shipments so the shares add up exactly to the line
at the currency's minor units; the order's shipping and shipping tax go with the first shipment.
Each capture's idempotency key is `capture:<fulfillment order number>`, so running this again
charges nothing twice.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from fulfillment.models import FulfillmentOrderLine
from fulfillment.models.fulfillment_orders import FINISHED_STATUSES
from oms.core.actors import Actor
from oms.core.errors import TransitionRefused
from oms.core.money import minor_units
from orders.models import LineStatus, Order, OrderLine, PaymentStatus, TransactionStatus
from orders.payments import PaymentUnavailable
from orders.services.payments import PaymentErrorCode, capture_payment

SYSTEM = Actor.system("payments")
SHIPPED_LINE_STATUSES = (LineStatus.SHIPPED, LineStatus.DELIVERED)


@dataclass(frozen=True)
class ChargedLine:
    """One order line's part of a shipment's charge: `amount` includes `tax`."""

    line_id: int
    units: int
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True)
class ShipmentCharge:
    fulfillment: str
    amount: Decimal
    # What the amount is made of (the ERP's invoice per shipment lists it): the lines' shares,
    # and the order's shipping with its tax on the first shipment. amount = lines + shipping.
    lines: tuple[ChargedLine, ...] = ()
    shipping: Decimal = Decimal("0")
    shipping_tax: Decimal = Decimal("0")


def shipment_charges(order: Order) -> list[ShipmentCharge]:
    """What each shipped fulfillment order of the order charges, oldest first."""
    quantum = Decimal(1).scaleb(-minor_units(order.currency))
    lines = {line.pk: line for line in OrderLine.objects.filter(order_id=order.pk)}
    shipping_tax = order.tax_total - sum((line.tax for line in lines.values()), Decimal("0"))
    shipped = (
        FulfillmentOrderLine.objects.filter(
            fulfillment__order_id=order.pk,
            fulfillment__status__in=FINISHED_STATUSES,
            shipped_quantity__gt=0,
        )
        .order_by("fulfillment_id", "id")
        .values_list("fulfillment__number", "order_line_id", "shipped_quantity")
    )
    parts: dict[str, list[ChargedLine]] = {}
    units_so_far: dict[int, int] = defaultdict(int)

    def share(value: Decimal, line: OrderLine, units: int) -> Decimal:
        return (value * units / line.quantity).quantize(quantum, ROUND_HALF_UP)

    for number, line_id, units in shipped:
        line = lines[line_id]
        before = units_so_far[line_id]
        units_so_far[line_id] = before + units
        gross = line.total + line.tax
        parts.setdefault(number, []).append(
            ChargedLine(
                line_id=line_id,
                units=units,
                amount=share(gross, line, before + units) - share(gross, line, before),
                tax=share(line.tax, line, before + units) - share(line.tax, line, before),
            )
        )
    charges = []
    for index, (number, charged) in enumerate(parts.items()):
        shipping = order.shipping_total if index == 0 else Decimal("0")
        tax = shipping_tax if index == 0 else Decimal("0")
        amount = shipping + tax + sum((part.amount for part in charged), Decimal("0"))
        charges.append(
            ShipmentCharge(
                number,
                amount.quantize(quantum),
                tuple(charged),
                shipping.quantize(quantum),
                tax.quantize(quantum),
            )
        )
    return charges


def capture_shipped_payment(*, order_id: int) -> str:
    """Idempotent: nothing unless every live line has shipped and the payment is still pending
    or authorized. Captures each shipment's charge in order; the last one settles the order
    (paid). Raises PaymentUnavailable when the provider did not answer (the task retries with
    the same keys). Returns "not_due", "captured", "refused" or "in_progress"."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.payment_status not in (
        PaymentStatus.PENDING,
        PaymentStatus.AUTHORIZED,
    ):
        return "not_due"
    statuses = set(
        order.lines.exclude(status=LineStatus.CANCELLED).values_list("status", flat=True)
    )
    if not statuses or not statuses <= set(SHIPPED_LINE_STATUSES):
        return "not_due"
    charges = [charge for charge in shipment_charges(order) if charge.amount > 0]
    for index, charge in enumerate(charges):
        try:
            tx = capture_payment(
                order_id=order_id,
                amount=charge.amount,
                actor=SYSTEM,
                idempotency_key=f"capture:{charge.fulfillment}",
                shipment_reference=charge.fulfillment,
                settles_order=index == len(charges) - 1,
            )
        except TransitionRefused as exc:
            if exc.code == PaymentErrorCode.PAYMENT_IN_PROGRESS:
                return "in_progress"  # another worker is capturing it right now
            raise
        if tx.status == TransactionStatus.FAILED:
            return "refused"
        if tx.status == TransactionStatus.PENDING:
            raise PaymentUnavailable(f"capture of {charge.fulfillment} has no answer yet")
    return "captured" if charges else "not_due"
