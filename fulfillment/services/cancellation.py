"""Fulfillment's part of cancelling an order line: taking it off the work not yet sent.

The orders app cancels the line (orders/services/cancellation.py) and records
`order.line_cancelled`; fulfillment owns fulfillment orders, so it reacts to that event in the
same transaction (registered in fulfillment/handlers.py), under the order lock the cancellation
holds:

- a line that is at a node (a fulfillment order of it released or later) is refused with
  `line_at_node`, which rolls the whole cancellation back: the node must reject or short it;
- the line leaves every fulfillment order still pending release: its fulfillment lines are
  removed from one that keeps other lines (`fulfillment.line_removed`), and a pending
  fulfillment order left with nothing is cancelled (`fulfillment.cancelled`; it keeps its line
  as the record of what it held). Both are caused by the `order.line_cancelled` event;
- the order rolls up.
"""

from django.utils import timezone

from fulfillment.events import FULFILLMENT_CANCELLED, FULFILLMENT_LINE_REMOVED
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, FulfillmentStatus
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from fulfillment.services.rollup import rollup_order
from inventory.models import ReservationStatus
from oms.core.actors import Actor
from oms.core.errors import TransitionRefused
from oms.events.models import Event
from oms.events.services import record_event
from orders.exceptions import OrderErrorCode
from orders.models import Order, OrderLine


def take_cancelled_line_off(*, line: OrderLine, actor: Actor, cause: Event) -> None:
    """The line was just cancelled in this transaction (`cause` is its `order.line_cancelled`);
    `line.order` is the order, locked by the caller."""
    order = line.order
    ours = FulfillmentOrderLine.objects.filter(order_line_id=line.pk)
    at_node = sorted(
        set(ours.values_list("fulfillment__status", flat=True)) & set(AT_NODE_STATUSES)
    )
    if at_node:
        raise TransitionRefused(
            OrderErrorCode.LINE_AT_NODE,
            f"Line {line.line_number} of {order.number} is at a node "
            f"({', '.join(at_node)}); only lines not yet at a node can be cancelled.",
            line=line.line_number,
            status=at_node[0],
        )
    pending = list(
        FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("node")
        .filter(
            order_id=order.pk,
            status=FulfillmentStatus.PENDING,
            pk__in=ours.values("fulfillment_id"),
        )
        .order_by("id")
    )
    why = f"line {line.line_number} cancelled: {cause.payload.get('reason', '')}"[:200]
    for fo in pending:
        _leave_pending_fulfillment(order, fo, line, why, actor=actor, cause=cause)
    rollup_order(order)


def _leave_pending_fulfillment(
    order: Order, fo: FulfillmentOrder, line: OrderLine, why: str, *, actor: Actor, cause: Event
) -> None:
    """Take the line off a pending fulfillment order (its reservations are released already):
    remove its fulfillment lines, or cancel the fulfillment order when nothing else is left."""
    mine = list(fo.lines.filter(order_line_id=line.pk).order_by("id"))
    others = (
        fo.lines.exclude(order_line_id=line.pk)
        .filter(reservation__status=ReservationStatus.ACTIVE)
        .exists()
    )
    units = sum(fl.quantity for fl in mine)
    if others:
        FulfillmentOrderLine.objects.filter(pk__in=[fl.pk for fl in mine]).delete()
        record_event(
            stream=order.stream,
            type=FULFILLMENT_LINE_REMOVED,
            actor=actor,
            causation_id=cause.event_id,
            payload={
                "fulfillment": fo.number,
                "node": fo.node.code,
                "line_number": line.line_number,
                "units": units,
            },
            subject=fo,
        )
        return
    fo.cancel(at=timezone.now(), reason=why)
    fo.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    record_event(
        stream=order.stream,
        type=FULFILLMENT_CANCELLED,
        actor=actor,
        causation_id=cause.event_id,
        payload={
            "fulfillment": fo.number,
            "node": fo.node.code,
            "reason": fo.close_reason,
            "units": units,
        },
        subject=fo,
    )
