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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

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
from oms.core.bulk import copy_rows
from oms.core.errors import DomainError
from oms.events.services import HistoryEvent, record_event, record_history_events
from orders.events import ORDER_CANCELLATION_IMPORTED
from orders.locks import lock_order
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
        [written] = _write([(order, lines, shipment)], first_number=number)
        event = record_event(
            stream=order.stream,
            type=FULFILLMENT_IMPORTED,
            actor=actor,
            payload=_payload(written, lines, shipment),
            occurred_at=shipment.shipped_at,
        )
        rollup_order(order, last_event=event)
    return FulfillmentOrder.objects.get(pk=written.pk)


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
    first_number: int = 1,
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
    rows = [_fulfillment_row(order, shipment, first_number) for order, _, shipment in items]
    fo_ids = copy_rows(FulfillmentOrder, rows)
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
    fo_line_ids = iter(copy_rows(FulfillmentOrderLine, line_rows))
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
    parcel_ids = copy_rows(Shipment, [row for _, row in parcels])
    copy_rows(
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


def _fulfillment_row(order: OrderLike, shipment: HistoricShipment, index: int) -> dict[str, Any]:
    pickup = order.delivery_method != "ship"
    if pickup:
        status = FulfillmentStatus.PICKED_UP
    elif shipment.delivered_at:
        status = FulfillmentStatus.DELIVERED
    else:
        status = FulfillmentStatus.SHIPPED
    return {
        "number": f"{order.number}-{index}",
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


class HistoryRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=409)


@dataclass(frozen=True)
class HistoricParcel:
    carrier: str
    tracking_number: str
    shipped_at: datetime | None = None
    service: str = ""
    # order line id → units in the parcel; empty: every shipped unit not yet in a parcel
    lines: dict[int, int] = field(default_factory=dict)


def parcel_room(fo: FulfillmentOrder) -> dict[int, int]:
    """Fulfillment line id → shipped units of `fo` not yet in any parcel."""
    in_parcels: dict[int, int] = {}
    for line_id, quantity in ShipmentLine.objects.filter(
        fulfillment_line__fulfillment=fo
    ).values_list("fulfillment_line_id", "quantity"):
        in_parcels[line_id] = in_parcels.get(line_id, 0) + quantity
    return {
        line.pk: line.shipped_quantity - in_parcels.get(line.pk, 0)
        for line in fo.lines.order_by("pk")
    }


def known_parcel(fo: FulfillmentOrder, parcel: HistoricParcel) -> Shipment | None:
    """The parcel this one is: on `fo` with its tracking number (whatever the carrier: a
    source may not name it), else anywhere with its carrier and tracking number."""
    tracking = parcel.tracking_number[:60]
    return (
        Shipment.objects.filter(fulfillment=fo, tracking_number=tracking).first()
        or Shipment.objects.filter(
            carrier=(parcel.carrier or "unknown")[:50], tracking_number=tracking
        ).first()
    )


def record_historic_parcel(
    *, fulfillment_id: int, parcel: HistoricParcel, actor: Actor
) -> tuple[Shipment, bool]:
    """A legacy parcel (carrier, tracking) of an imported history shipment, reported after the
    order was imported (a Sterling confirmShipment): added to its finished fulfillment order
    with `fulfillment.imported`, at the parcel's time. Nothing ships, no stock moves, no handler
    runs. Idempotent: the same parcel (known_parcel) on this fulfillment order is returned as
    it is (created False). Refuses `tracking_taken` (the tracking number is another
    fulfillment order's) and `over_shipment` (more units than it shipped outside parcels)."""
    with transaction.atomic():
        order = lock_order(
            FulfillmentOrder.objects.values_list("order_id", flat=True).get(pk=fulfillment_id)
        )
        fo = FulfillmentOrder.objects.select_related("node").get(pk=fulfillment_id)
        carrier = (parcel.carrier or "unknown")[:50]
        existing = known_parcel(fo, parcel)
        if existing is not None:
            if existing.fulfillment_id != fo.pk:
                raise HistoryRefused(
                    "tracking_taken",
                    f"{carrier} {parcel.tracking_number} is a parcel of another fulfillment order",
                )
            return existing, False
        room = parcel_room(fo)
        by_order_line = {
            line.pk: line.order_line_id for line in fo.lines.all() if room.get(line.pk, 0) > 0
        }
        units: dict[int, int] = {}
        if parcel.lines:
            wanted = dict(parcel.lines)
            for fl_id, order_line_id in sorted(by_order_line.items()):
                take = min(wanted.get(order_line_id, 0), room[fl_id])
                if take:
                    units[fl_id] = take
                    wanted[order_line_id] -= take
            if any(left > 0 for left in wanted.values()):
                raise HistoryRefused(
                    "over_shipment",
                    f"{fo.number} shipped fewer units outside parcels than this parcel carries",
                )
        else:
            units = {fl_id: room[fl_id] for fl_id in by_order_line}
        if not units:
            raise HistoryRefused("over_shipment", f"{fo.number}: every shipped unit has a parcel")
        at = parcel.shipped_at or fo.shipped_at or fo.picked_up_at or order.placed_at
        shipment = Shipment.objects.create(
            fulfillment=fo,
            carrier=carrier,
            service=parcel.service[:50],
            tracking_number=parcel.tracking_number[:60],
            status=ShipmentStatus.DELIVERED if fo.delivered_at else ShipmentStatus.IN_TRANSIT,
            shipped_at=at,
            delivered_at=fo.delivered_at,
        )
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(shipment=shipment, fulfillment_line_id=fl_id, quantity=quantity)
                for fl_id, quantity in sorted(units.items())
            ]
        )
        lines = {line.pk: line.order_line for line in fo.lines.select_related("order_line")}
        record_event(
            stream=order.stream,
            type=FULFILLMENT_IMPORTED,
            actor=actor,
            payload={
                "fulfillment": fo.number,
                "node": fo.node.code,
                "status": fo.status,
                "shipped_at": at.isoformat(),
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "lines": [
                    {"sku": lines[fl_id].sku, "quantity": quantity}
                    for fl_id, quantity in sorted(units.items())
                ],
            },
            occurred_at=at,
        )
    return shipment, True


def cancellable_history_units(line: OrderLine) -> int:
    """Units of a history order's line a legacy cancellation can still take: neither cancelled
    nor shipped in the imported history."""
    shipped = sum(
        FulfillmentOrderLine.objects.filter(order_line=line).values_list(
            "shipped_quantity", flat=True
        )
    )
    return line.quantity - line.cancelled_quantity - shipped


def record_historic_cancellation(
    *, order_line_id: int, quantity: int, actor: Actor, source: str, reason: str
) -> OrderLine:
    """A legacy cancellation of units of a history order's line (a Sterling changeRelease
    for an order imported closed): the units are added to the line's cancelled quantity, in
    one conditional UPDATE (never more than neither shipped nor cancelled), and recorded as
    `order.cancellation_imported`. The order's status and money are the source's and do not
    change; nothing is released, sent or moved. Refuses `not_cancellable`."""
    with transaction.atomic():
        order = lock_order(
            OrderLine.objects.values_list("order_id", flat=True).get(pk=order_line_id)
        )
        line = OrderLine.objects.get(pk=order_line_id)
        room = cancellable_history_units(line)
        shipped = line.quantity - line.cancelled_quantity - room
        done = (
            OrderLine.objects.filter(
                pk=line.pk, cancelled_quantity__lte=line.quantity - shipped - quantity
            ).update(cancelled_quantity=F("cancelled_quantity") + quantity)
            if 0 < quantity <= room
            else 0
        )
        if not done:
            raise HistoryRefused(
                "not_cancellable",
                f"{order.number} line {line.line_number}: {room} of its {line.quantity} units "
                f"are neither shipped nor cancelled in the imported history; cannot cancel "
                f"{quantity}",
            )
        line.refresh_from_db(fields=["cancelled_quantity"])
        record_event(
            stream=order.stream,
            type=ORDER_CANCELLATION_IMPORTED,
            actor=actor,
            payload={
                "imported": {"source": source},
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": quantity,
                "cancelled_quantity": line.cancelled_quantity,
                "reason": reason,
            },
        )
    return line
