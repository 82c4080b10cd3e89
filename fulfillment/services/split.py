"""split_fulfillment(): part of a fulfillment order becomes a fulfillment order of its own, at
the same node and in the same state (released or accepted), so that part can ship on its own
through the normal flow (`ship_fulfillment` of the new one) while the rest stays where it is.

Used when a node reports a parcel that carries only part of the work (a legacy system's
shipment of some units, migration/importers/reference.py). It is not a short shipment: no unit
is written off and nothing is rerouted. Each moved part keeps its reservation: a fulfillment
line moved whole takes its reservation with it; a line split in two splits its reservation
(inventory.reservations.split_reservation: the same units stay reserved, counters and ledger
unchanged). Nothing is sent to the node: the split records what it did. Only a fulfillment
order nothing was picked from yet (released or accepted) and without an open node request is
split; the rest is refused with a code.
"""

from django.db import transaction

from fulfillment.events import FULFILLMENT_SPLIT
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, FulfillmentStatus
from fulfillment.models.node_requests import NodeRequestStatus
from fulfillment.services.feedback import lock_fulfillment
from inventory.reservations import split_reservation
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.services import record_event

SPLITTABLE = (FulfillmentStatus.RELEASED, FulfillmentStatus.ACCEPTED)


class SplitRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=409)


def split_fulfillment(
    *, fulfillment_id: int, quantities: dict[int, int], actor: Actor, reason: str
) -> FulfillmentOrder:
    """Move `quantities` (fulfillment line id → units) into a new fulfillment order at the same
    node and status; records `fulfillment.split`. Refuses `not_splittable` (picked, packed,
    finished or closed; or an open node request), `bad_split` (a line not of this fulfillment
    order, a quantity outside 1..its units, or every unit: nothing would be left)."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment_id)
        if fo.status not in SPLITTABLE:
            raise SplitRefused(
                "not_splittable", f"{fo.number} is {fo.status}: only a released or accepted "
                "fulfillment order is split",
            )  # fmt: skip
        if fo.node_requests.filter(status=NodeRequestStatus.OPEN).exists():
            raise SplitRefused(
                "not_splittable", f"{fo.number} has an open node request: split it once answered"
            )
        lines = {line.pk: line for line in fo.lines.select_related("order_line")}
        wanted = {pk: q for pk, q in quantities.items() if q}
        bad = [pk for pk, q in wanted.items() if pk not in lines or not 0 < q <= lines[pk].quantity]
        if bad or not wanted:
            raise SplitRefused("bad_split", f"{fo.number}: no such units to split off ({bad})")
        if all(wanted.get(pk, 0) == line.quantity for pk, line in lines.items()):
            raise SplitRefused("bad_split", f"{fo.number}: every unit would move; nothing to split")
        count = FulfillmentOrder.objects.filter(order_id=order.pk).count()
        new = FulfillmentOrder(
            number=f"{order.number}-{count + 1}",
            order=order,
            node=fo.node,
            status=fo.status,
            delivery_method=fo.delivery_method,
            service_level=fo.service_level,
            ship_by=fo.ship_by,
            released_at=fo.released_at,
            accepted_at=fo.accepted_at,
            node_reference=fo.node_reference,
        )
        new.save(force_insert=True)
        moved = []
        for pk, quantity in sorted(wanted.items()):
            line = lines[pk]
            if quantity == line.quantity:
                FulfillmentOrderLine.objects.filter(pk=pk).update(fulfillment=new)
            else:
                part = split_reservation(reservation_id=line.reservation_id, quantity=quantity)
                FulfillmentOrderLine.objects.filter(pk=pk).update(quantity=line.quantity - quantity)
                FulfillmentOrderLine.objects.create(
                    fulfillment=new, order_line=line.order_line, reservation=part,
                    quantity=quantity,
                )  # fmt: skip
            moved.append(
                {
                    "line_number": line.order_line.line_number,
                    "sku": line.order_line.sku,
                    "quantity": quantity,
                }
            )
        record_event(
            stream=order.stream,
            type=FULFILLMENT_SPLIT,
            actor=actor,
            payload={
                "fulfillment": fo.number,
                "into": new.number,
                "node": fo.node.code,
                "status": new.status,
                "reason": reason,
                "lines": moved,
            },
        )
    return new
