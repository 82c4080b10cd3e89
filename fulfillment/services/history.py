"""record_historic_fulfillment(): the legacy shipment of an imported closed order (migration/).

One fulfillment order at the node that shipped it, in its final state (shipped, delivered or
picked up) with the legacy times, its lines tied to reservations written already consumed
(inventory/services/history.py: no stock moves), and a parcel with carrier and tracking when
the source has them. `fulfillment.imported` is recorded at the shipping time. Nothing is sent
to the node and no handler runs. The shipping KPIs read `shipped_at`, so they cover it.

record_shipped_part() does the same for the lines of an in-flight order that shipped before
oms took it over (a partially fulfilled legacy order): the order is a captured, live one, so
the part is written under its lock and rolled up (its lines shipped, the order partially
shipped); the rest stays reserved and carries on natively.
"""

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
from fulfillment.services.rollup import rollup_order
from inventory.models import Node
from inventory.services.history import ConsumedHistory, record_consumed_history
from oms.core.actors import Actor
from oms.events.services import HistoryEvent, record_event, record_history_events
from orders.locks import lock_order
from orders.models import Order, OrderLine


@dataclass(frozen=True)
class HistoricShipment:
    node: Node
    shipped_at: datetime
    delivered_at: datetime | None = None
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""


def record_historic_fulfillment(
    *, order: Order, lines: list[OrderLine], shipment: HistoricShipment, actor: Actor
) -> FulfillmentOrder:
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


def record_shipped_part(
    *, order: Order, lines: list[OrderLine], shipment: HistoricShipment, actor: Actor
) -> FulfillmentOrder:
    """The legacy shipment of some whole lines of an in-flight order (captured in this
    transaction or before): a finished fulfillment order for them with consumed reservations
    (no stock moves) and its parcel, `fulfillment.imported`, then the rollup under the order
    lock (those lines shipped or picked up, the order partially shipped). Lines not in `lines`
    are left to the native flow."""
    with transaction.atomic():
        order = lock_order(order.pk)
        number = FulfillmentOrder.objects.filter(order_id=order.pk).count() + 1
        [fo] = _write([(order, lines, shipment)], first_number=number)
        event = record_event(
            stream=order.stream,
            type=FULFILLMENT_IMPORTED,
            actor=actor,
            payload=_payload(fo, lines, shipment),
            occurred_at=shipment.shipped_at,
        )
        rollup_order(order, last_event=event)
    return fo


def record_historic_fulfillments(
    *, items: list[tuple[Order, list[OrderLine], HistoricShipment]], actor: Actor
) -> list[FulfillmentOrder]:
    """Many at once, for orders whose streams this transaction created with `order.imported`
    as their first event (orders/services/history.py record_historic_orders): each
    `fulfillment.imported` is the second (seq 2). A few INSERTs for the whole batch."""
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
    items: list[tuple[Order, list[OrderLine], HistoricShipment]], first_number: int = 1
) -> list[FulfillmentOrder]:
    reservations = record_consumed_history(
        items=[
            ConsumedHistory(shipment.node.pk, line.product_id, line.pk, line.quantity, order.number)
            for order, lines, shipment in items
            for line in lines
        ],
        reference_id="imported history",
    )
    fos = FulfillmentOrder.objects.bulk_create(
        [_fulfillment_order(order, shipment, first_number) for order, _, shipment in items]
    )
    taken = iter(reservations)
    fo_lines = [
        [
            FulfillmentOrderLine(
                fulfillment=fo,
                order_line=line,
                reservation=next(taken),
                quantity=line.quantity,
                picked_quantity=line.quantity,
                shipped_quantity=line.quantity,
            )
            for line in lines
        ]
        for fo, (_, lines, _) in zip(fos, items, strict=True)
    ]
    FulfillmentOrderLine.objects.bulk_create([fl for group in fo_lines for fl in group])
    parcels = [
        (
            Shipment(
                fulfillment=fo,
                carrier=(shipment.carrier or "unknown")[:50],
                service=shipment.service[:50],
                tracking_number=shipment.tracking_number[:60],
                status=ShipmentStatus.DELIVERED
                if shipment.delivered_at
                else ShipmentStatus.IN_TRANSIT,
                shipped_at=shipment.shipped_at,
                delivered_at=shipment.delivered_at,
            ),
            group,
        )
        for fo, group, (order, _, shipment) in zip(fos, fo_lines, items, strict=True)
        if shipment.tracking_number and order.delivery_method == "ship"
    ]
    Shipment.objects.bulk_create([parcel for parcel, _ in parcels])
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=parcel, fulfillment_line=fl, quantity=fl.quantity)
            for parcel, group in parcels
            for fl in group
        ]
    )
    for fo, (parcel, _) in ((p[0].fulfillment, p) for p in parcels):
        fo._imported_parcel = parcel  # type: ignore[attr-defined]  # read by _payload below
    return fos


def _fulfillment_order(order: Order, shipment: HistoricShipment, index: int) -> FulfillmentOrder:
    pickup = order.delivery_method != "ship"
    if pickup:
        status = FulfillmentStatus.PICKED_UP
    elif shipment.delivered_at:
        status = FulfillmentStatus.DELIVERED
    else:
        status = FulfillmentStatus.SHIPPED
    return FulfillmentOrder(
        number=f"{order.number}-{index}",
        order=order,
        node=shipment.node,
        status=status,
        delivery_method=order.delivery_method,
        service_level=order.service_level,
        released_at=shipment.shipped_at,
        accepted_at=shipment.shipped_at,
        shipped_at=None if pickup else shipment.shipped_at,
        picked_up_at=shipment.shipped_at if pickup else None,
        delivered_at=shipment.delivered_at,
        node_reference="imported",
    )


def _payload(
    fo: FulfillmentOrder, lines: list[OrderLine], shipment: HistoricShipment
) -> dict[str, Any]:
    parcel = getattr(fo, "_imported_parcel", None)
    return {
        "fulfillment": fo.number,
        "node": shipment.node.code,
        "status": fo.status,
        "shipped_at": shipment.shipped_at.isoformat(),
        "carrier": parcel.carrier if parcel else None,
        "tracking_number": parcel.tracking_number if parcel else None,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
    }
