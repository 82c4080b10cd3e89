"""record_historic_order(): a closed legacy order written as history (migration/).

Not a capture: nothing is validated against stock, routed, reserved or sent, and no handler
runs (the event has no subject). The order and its lines are written in their final state, and
`order.imported` is recorded at the source's placement time, so the KPIs (by placed_at) and the
order's timeline cover the legacy years. Shipments are fulfillment's part
(fulfillment/services/history.py).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from inventory.models import Node, Product
from oms.core.actors import Actor
from oms.core.bulk import copy_rows
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
    ServiceLevel,
    stream_for_order,
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


@dataclass(frozen=True)
class WrittenLine:
    """An order line as record_historic_orders() wrote it (no model instance: see below)."""

    pk: int
    product_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class WrittenOrder:
    pk: int
    number: str
    channel_code: str
    delivery_method: str
    service_level: str

    @property
    def stream(self) -> str:
        return stream_for_order(self.number)


def _order_row(channel: Channel, data: HistoricOrder) -> dict[str, Any]:
    """The order's columns (attribute names), in its final state."""
    if data.status not in CLOSED_STATUSES:
        raise InvalidInput(
            [FieldError("not_closed", f"{data.status!r} is not a closed status", "status")]
        )
    subtotal = sum((line_total(line) for line in data.lines), Decimal("0"))
    computed = subtotal + data.shipping_total + data.tax_total - data.discount_total
    address = data.ship_address
    return {
        "number": new_order_number(),
        "public_id": uuid.uuid4(),
        "channel_id": channel.pk,
        "external_id": data.external_id,
        "status": str(data.status),
        "payment_status": str(data.payment_status),
        "payment_method": data.payment_method[:50],
        "placed_at": data.placed_at,
        "currency": data.currency,
        "subtotal": subtotal,
        "shipping_total": data.shipping_total,
        "discount_total": data.discount_total,
        "tax_total": data.tax_total,
        "grand_total": data.grand_total if data.grand_total is not None else computed,
        "customer_name": data.customer_name[:200],
        "customer_email": data.customer_email,
        "customer_phone": data.customer_phone[:40],
        "delivery_method": str(data.delivery_method),
        "pickup_node_id": data.pickup_node.pk if data.pickup_node is not None else None,
        "ship_name": address.get("name", "")[:200],
        "ship_line1": address.get("line1", "")[:200],
        "ship_line2": address.get("line2", "")[:200],
        "ship_city": address.get("city", "")[:100],
        "ship_region": address.get("region", "")[:100],
        "ship_postal_code": address.get("postal_code", "")[:20],
        "ship_country": address.get("country", "")[:2],
        "notes": data.notes,
        "cancelled_at": data.cancelled_at,
    }


def _line_rows(data: HistoricOrder) -> list[dict[str, Any]]:
    return [
        {
            "line_number": index,
            "external_line_id": line.external_line_id[:100],
            "product_id": line.product.pk,
            "sku": line.product.sku,
            "name": line.name[:255],
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount": line.discount,
            "tax": line.tax,
            "total": line_total(line),
            "status": str(line.status),
        }
        for index, line in enumerate(data.lines, start=1)
    ]


def record_historic_order(
    *, channel: Channel, data: HistoricOrder, actor: Actor
) -> tuple[Order, list[OrderLine]]:
    """Insert a closed order with its lines and `order.imported` (at data.placed_at)."""
    row = _order_row(channel, data)
    order = Order(**row)
    order.channel = channel
    with transaction.atomic():
        existing = _insert_with_unique_number(order)
        if existing is not None:
            raise DuplicateOrder(
                channel_code=channel.code, external_id=data.external_id, number=existing
            )
        line_rows = _line_rows(data)
        lines = OrderLine.objects.bulk_create(
            [OrderLine(order=order, **line) for line in line_rows]
        )
        record_event(
            stream=order.stream,
            type=ORDER_IMPORTED,
            actor=actor,
            payload=_payload(
                order.number, channel.code, {**row, "number": order.number}, line_rows, data.source
            ),  # fmt: skip
            first_in_stream=True,
            occurred_at=data.placed_at,
        )
    return order, lines


def record_historic_orders(
    *, items: list[tuple[Channel, HistoricOrder]], actor: Actor
) -> list[tuple[WrittenOrder, list[WrittenLine]]]:
    """Many closed orders in a few statements: one COPY of the orders, one of their lines, one
    of their `order.imported` events (each the first of its new stream, seq 1), with no model
    instance (oms/core/bulk.py: at a million orders the ORM's per-row work is most of the time).
    A clash with an existing order (or, once in 10^12, a drawn number) refuses the whole batch
    with `order_exists`; record_historic_order() then tells which one it was."""
    rows = [_order_row(channel, data) for channel, data in items]
    line_rows = [_line_rows(data) for _, data in items]
    with transaction.atomic():
        try:
            with transaction.atomic():
                order_ids = copy_rows(Order, rows)
        except IntegrityError:
            raise DomainError(
                code="order_exists", detail="an order of the batch exists already"
            ) from None
        flat = [
            {**line, "order_id": order_id}
            for order_id, group in zip(order_ids, line_rows, strict=True)
            for line in group
        ]
        line_ids = iter(copy_rows(OrderLine, flat))
        written = [
            (
                WrittenOrder(
                    pk=order_id,
                    number=row["number"],
                    channel_code=channel.code,
                    delivery_method=row["delivery_method"],
                    service_level=ServiceLevel.STANDARD,
                ),
                [
                    WrittenLine(next(line_ids), line["product_id"], line["sku"], line["quantity"])
                    for line in group
                ],
            )
            for order_id, row, group, (channel, _) in zip(
                order_ids, rows, line_rows, items, strict=True
            )
        ]
        record_history_events(
            events=[
                HistoryEvent(
                    stream=order.stream,
                    seq=1,
                    type=ORDER_IMPORTED,
                    payload=_payload(order.number, order.channel_code, row, group, data.source),
                    occurred_at=data.placed_at,
                )
                for (order, _), row, group, (_, data) in zip(
                    written, rows, line_rows, items, strict=True
                )
            ],
            actor=actor,
        )
    return written


def _payload(
    number: str,
    channel_code: str,
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    source: str,
) -> dict[str, Any]:
    currency = order["currency"]
    cancelled_at = order["cancelled_at"]
    return {
        "imported": {"source": source, "source_id": order["external_id"]},
        "order": {
            "number": number,
            "channel": channel_code,
            "external_id": order["external_id"],
            "placed_at": order["placed_at"].isoformat(),
            "status": order["status"],
            "payment_status": order["payment_status"],
            "currency": currency,
            "grand_total": format_amount(order["grand_total"], currency),
            "cancelled_at": cancelled_at.isoformat() if cancelled_at else None,
        },
        "lines": [
            {
                "line_number": line["line_number"],
                "sku": line["sku"],
                "quantity": line["quantity"],
                "status": line["status"],
                "total": format_amount(line["total"], currency),
            }
            for line in lines
        ],
    }
