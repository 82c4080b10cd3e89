"""record_historic_fulfillment(): the legacy shipment of an imported closed order (migration/).

One fulfillment order at the node that shipped it, in its final state (shipped, delivered or
picked up) with the legacy times, its lines tied to reservations written already consumed
(inventory/services/history.py: no stock moves), and a parcel with carrier and tracking when
the source has them. `fulfillment.imported` is recorded at the shipping time. Nothing is sent
to the node and no handler runs. The shipping KPIs read `shipped_at`, so they cover it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from fulfillment.events import FULFILLMENT_IMPORTED
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from inventory.models import Node
from inventory.services.history import ConsumedHistory, record_consumed_history
from oms.core.actors import Actor
from oms.core.bulk import insert_rows
from oms.events.services import HistoryEvent, record_event, record_history_events
from orders.models import Order, OrderLine
from orders.services.history import WrittenLine, WrittenOrder


@dataclass(frozen=True)
class HistoricShipment:
    node: Node
    shipped_at: datetime
    delivered_at: datetime | None = None
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""


# An order and its lines as orders/services/history.py wrote them: the models (one order) or
# the rows of a batch (record_historic_orders(), no model instances).
OrderLike = Order | WrittenOrder
LineLike = OrderLine | WrittenLine


@dataclass(frozen=True)
class WrittenFulfillment:
    pk: int
    number: str
    status: str
    carrier: str | None = None
    tracking_number: str | None = None


def record_historic_fulfillment(
    *, order: OrderLike, lines: Sequence[LineLike], shipment: HistoricShipment, actor: Actor
) -> WrittenFulfillment:
    """One order's legacy shipment; `fulfillment.imported` follows the stream's last event."""
    with transaction.atomic():
        [fo] = _write([(order, lines, shipment)])
        record_event(
            stream=order.stream,
            type=FULFILLMENT_IMPORTED,
            actor=actor,
            payload=_payload(fo, lines, shipment),
            occurred_at=shipment.shipped_at,
        )
    return fo


def record_historic_fulfillments(
    *, items: Sequence[tuple[OrderLike, Sequence[LineLike], HistoricShipment]], actor: Actor
) -> list[WrittenFulfillment]:
    """Many at once, for orders whose streams this transaction created with `order.imported`
    as their first event (orders/services/history.py record_historic_orders): each
    `fulfillment.imported` is the second (seq 2). A few COPYs for the whole batch
    (oms/core/bulk.py)."""
    with transaction.atomic():
        fos = _write(items)
        record_history_events(
            events=[
                HistoryEvent(
                    stream=order.stream,
                    seq=2,
                    type=FULFILLMENT_IMPORTED,
                    payload=_payload(fo, lines, shipment),
                    occurred_at=shipment.shipped_at,
                )
                for fo, (order, lines, shipment) in zip(fos, items, strict=True)
            ],
            actor=actor,
        )
    return fos


def _write(
    items: Sequence[tuple[OrderLike, Sequence[LineLike], HistoricShipment]],
) -> list[WrittenFulfillment]:
    reservations = iter(
        record_consumed_history(
            items=[
                ConsumedHistory(
                    shipment.node.pk, line.product_id, line.pk, line.quantity, order.number
                )
                for order, lines, shipment in items
                for line in lines
            ],
            reference_id="imported history",
        )
    )
    rows = [_fulfillment_row(order, shipment) for order, _, shipment in items]
    fo_ids = insert_rows(FulfillmentOrder, rows)
    line_rows = [
        {
            "fulfillment_id": fo_id,
            "order_line_id": line.pk,
            "reservation_id": next(reservations),
            "quantity": line.quantity,
            "picked_quantity": line.quantity,
            "shipped_quantity": line.quantity,
        }
        for fo_id, (_, lines, _) in zip(fo_ids, items, strict=True)
        for line in lines
    ]
    fo_line_ids = iter(insert_rows(FulfillmentOrderLine, line_rows))
    groups = [[next(fo_line_ids) for _ in lines] for _, lines, _ in items]
    parcels: list[tuple[int, dict[str, Any]]] = [
        (
            index,
            {
                "fulfillment_id": fo_id,
                "carrier": (shipment.carrier or "unknown")[:50],
                "service": shipment.service[:50],
                "tracking_number": shipment.tracking_number[:60],
                "status": str(
                    ShipmentStatus.DELIVERED if shipment.delivered_at else ShipmentStatus.IN_TRANSIT
                ),
                "shipped_at": shipment.shipped_at,
                "delivered_at": shipment.delivered_at,
            },
        )
        for index, (fo_id, (order, _, shipment)) in enumerate(zip(fo_ids, items, strict=True))
        if shipment.tracking_number and order.delivery_method == "ship"
    ]
    parcel_ids = insert_rows(Shipment, [row for _, row in parcels])
    insert_rows(
        ShipmentLine,
        [
            {"shipment_id": parcel_id, "fulfillment_line_id": fl_id, "quantity": line.quantity}
            for parcel_id, (index, _) in zip(parcel_ids, parcels, strict=True)
            for fl_id, line in zip(groups[index], items[index][1], strict=True)
        ],
    )
    parcel_of = dict(parcels)
    return [  # carrier and tracking as the parcel row has them (the payload names them)
        WrittenFulfillment(
            pk=fo_id,
            number=row["number"],
            status=row["status"],
            carrier=str(parcel_of[index]["carrier"]) if index in parcel_of else None,
            tracking_number=(
                str(parcel_of[index]["tracking_number"]) if index in parcel_of else None
            ),
        )
        for index, (fo_id, row) in enumerate(zip(fo_ids, rows, strict=True))
    ]


def _fulfillment_row(order: OrderLike, shipment: HistoricShipment) -> dict[str, Any]:
    pickup = order.delivery_method != "ship"
    if pickup:
        status = FulfillmentStatus.PICKED_UP
    elif shipment.delivered_at:
        status = FulfillmentStatus.DELIVERED
    else:
        status = FulfillmentStatus.SHIPPED
    return {
        "number": f"{order.number}-1",
        "order_id": order.pk,
        "node_id": shipment.node.pk,
        "status": str(status),
        "delivery_method": str(order.delivery_method),
        "service_level": str(order.service_level),
        "released_at": shipment.shipped_at,
        "accepted_at": shipment.shipped_at,
        "shipped_at": None if pickup else shipment.shipped_at,
        "picked_up_at": shipment.shipped_at if pickup else None,
        "delivered_at": shipment.delivered_at,
        "node_reference": "imported",
    }


def _payload(
    fo: WrittenFulfillment, lines: Sequence[LineLike], shipment: HistoricShipment
) -> dict[str, Any]:
    return {
        "fulfillment": fo.number,
        "node": shipment.node.code,
        "status": fo.status,
        "shipped_at": shipment.shipped_at.isoformat(),
        "carrier": fo.carrier,
        "tracking_number": fo.tracking_number,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
    }
