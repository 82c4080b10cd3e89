"""record_historic_order(): a closed legacy order written as history (migration/).

Not a capture: nothing is validated against stock, routed, reserved or sent, and no handler
runs (the event has no subject). The order and its lines are written in their final state, and
`order.imported` is recorded at the source's placement time, so the KPIs (by placed_at) and the
order's timeline cover the legacy years. Shipments are fulfillment's part
(fulfillment/services/history.py).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from inventory.models import Node, Product
from oms.core.actors import Actor
from oms.core.errors import DomainError, FieldError, InvalidInput
from oms.core.money import format_amount
from oms.events.services import HistoryEvent, record_event, record_history_events
from orders.events import ORDER_IMPORTED
from orders.exceptions import DuplicateOrder
from orders.models import (
    Channel,
    DeliveryMethod,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from orders.services.capture import _insert_with_unique_number, new_order_number

CLOSED_STATUSES = (
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
)


@dataclass(frozen=True)
class HistoricLine:
    product: Product
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    status: str = LineStatus.SHIPPED
    external_line_id: str = ""


@dataclass(frozen=True)
class HistoricOrder:
    external_id: str
    placed_at: datetime
    currency: str
    status: str
    customer_name: str
    lines: list[HistoricLine]
    source: str
    payment_status: str = PaymentStatus.PAID
    payment_method: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    delivery_method: str = DeliveryMethod.SHIP
    pickup_node: Node | None = None
    ship_address: dict[str, str] = field(default_factory=dict)
    shipping_total: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    grand_total: Decimal | None = None
    cancelled_at: datetime | None = None
    notes: str = ""


def line_total(line: HistoricLine) -> Decimal:
    return line.quantity * line.unit_price - line.discount


def _new_order(channel: Channel, data: HistoricOrder) -> Order:
    if data.status not in CLOSED_STATUSES:
        raise InvalidInput(
            [FieldError("not_closed", f"{data.status!r} is not a closed status", "status")]
        )
    subtotal = sum((line_total(line) for line in data.lines), Decimal("0"))
    computed = subtotal + data.shipping_total + data.tax_total - data.discount_total
    address = data.ship_address
    return Order(
        number=new_order_number(),
        channel=channel,
        external_id=data.external_id,
        status=data.status,
        payment_status=data.payment_status,
        payment_method=data.payment_method[:50],
        placed_at=data.placed_at,
        currency=data.currency,
        subtotal=subtotal,
        shipping_total=data.shipping_total,
        discount_total=data.discount_total,
        tax_total=data.tax_total,
        grand_total=data.grand_total if data.grand_total is not None else computed,
        customer_name=data.customer_name[:200],
        customer_email=data.customer_email,
        customer_phone=data.customer_phone[:40],
        delivery_method=data.delivery_method,
        pickup_node=data.pickup_node,
        ship_name=address.get("name", "")[:200],
        ship_line1=address.get("line1", "")[:200],
        ship_line2=address.get("line2", "")[:200],
        ship_city=address.get("city", "")[:100],
        ship_region=address.get("region", "")[:100],
        ship_postal_code=address.get("postal_code", "")[:20],
        ship_country=address.get("country", "")[:2],
        notes=data.notes,
        cancelled_at=data.cancelled_at,
    )


def _new_lines(order: Order, data: HistoricOrder) -> list[OrderLine]:
    return [
        OrderLine(
            order=order,
            line_number=index,
            external_line_id=line.external_line_id[:100],
            product=line.product,
            sku=line.product.sku,
            name=line.name[:255],
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            tax=line.tax,
            total=line_total(line),
            status=line.status,
        )
        for index, line in enumerate(data.lines, start=1)
    ]


def record_historic_order(
    *, channel: Channel, data: HistoricOrder, actor: Actor
) -> tuple[Order, list[OrderLine]]:
    """Insert a closed order with its lines and `order.imported` (at data.placed_at)."""
    order = _new_order(channel, data)
    with transaction.atomic():
        existing = _insert_with_unique_number(order)
        if existing is not None:
            raise DuplicateOrder(
                channel_code=channel.code, external_id=data.external_id, number=existing
            )
        lines = _new_lines(order, data)
        OrderLine.objects.bulk_create(lines)
        record_event(
            stream=order.stream,
            type=ORDER_IMPORTED,
            actor=actor,
            payload=_payload(order, lines, data.source),
            first_in_stream=True,
            occurred_at=data.placed_at,
        )
    return order, lines


def record_historic_orders(
    *, items: list[tuple[Channel, HistoricOrder]], actor: Actor
) -> list[tuple[Order, list[OrderLine]]]:
    """Many closed orders in a few statements: one INSERT of the orders, one of their lines,
    one of their `order.imported` events (each the first of its new stream, seq 1). A clash
    with an existing order (or, once in 10^12, a drawn number) refuses the whole batch with
    `order_exists`; record_historic_order() then tells which one it was."""
    orders = [_new_order(channel, data) for channel, data in items]
    with transaction.atomic():
        try:
            with transaction.atomic():
                Order.objects.bulk_create(orders)
        except IntegrityError:
            raise DomainError(
                code="order_exists", detail="an order of the batch exists already"
            ) from None
        lines = [_new_lines(order, data) for order, (_, data) in zip(orders, items, strict=True)]
        OrderLine.objects.bulk_create([line for group in lines for line in group])
        record_history_events(
            events=[
                HistoryEvent(
                    stream=order.stream,
                    seq=1,
                    type=ORDER_IMPORTED,
                    payload=_payload(order, order_lines, data.source),
                    occurred_at=data.placed_at,
                )
                for order, order_lines, (_, data) in zip(orders, lines, items, strict=True)
            ],
            actor=actor,
        )
    return list(zip(orders, lines, strict=True))


def _payload(order: Order, lines: list[OrderLine], source: str) -> dict[str, Any]:
    def money(amount: Decimal) -> str:
        return format_amount(amount, order.currency)

    return {
        "imported": {"source": source, "source_id": order.external_id},
        "order": {
            "number": order.number,
            "channel": order.channel.code,
            "external_id": order.external_id,
            "placed_at": order.placed_at.isoformat(),
            "status": order.status,
            "payment_status": order.payment_status,
            "currency": order.currency,
            "grand_total": money(order.grand_total),
            "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else None,
        },
        "lines": [
            {
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": line.quantity,
                "status": line.status,
                "total": money(line.total),
            }
            for line in lines
        ],
    }
