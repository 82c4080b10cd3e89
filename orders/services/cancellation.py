"""Cancelling one order line before it reaches a node (the order page's "Cancel line" action and
the exception console's "cancel lines" remedy).

A line that is open, backordered or allocated can be cancelled; all of it happens under the
order lock in one transaction:

1. its reservations are released (reserved falls, available rises, one `release` movement
   each), whether or not they are in a fulfillment order yet;
2. it leaves every fulfillment order still pending release: its fulfillment lines are removed
   from one that keeps other lines, and a pending fulfillment order left with nothing is
   cancelled (`fulfillment.cancelled`; it keeps its line as the record of what it held);
3. the line is cancelled, `order.line_cancelled` is recorded (with the fulfillment orders it
   left) and the order rolls up.

A line at a node (any fulfillment order of it released or later) is refused with
`line_at_node`: the node must reject or short it first. Whole lines only: a line has one
quantity and its prices, so there is no partial quantity to cancel.
"""

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from fulfillment.events import FULFILLMENT_CANCELLED
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, FulfillmentStatus
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from fulfillment.services.rollup import rollup_order
from inventory.models import ReservationStatus
from inventory.reservations import release_for_order_lines
from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.events.services import record_event
from oms.ops.events import ORDER_LINE_CANCELLED
from orders.locks import lock_order
from orders.models import LineStatus, Order, OrderLine

CANCELLABLE = (LineStatus.OPEN, LineStatus.BACKORDERED, LineStatus.ALLOCATED)


def cancel_order_line(*, order_id: int, line_id: int, actor: Actor, reason: str) -> OrderLine:
    with transaction.atomic():
        order = lock_order(order_id)
        line = (
            OrderLine.objects.select_for_update(of=("self",))
            .filter(pk=line_id, order_id=order.pk)
            .first()
        )
        if line is None:
            raise NotFound(f"Order {order.number} has no line {line_id}.", code="line_not_found")
        statuses = set(
            FulfillmentOrderLine.objects.filter(order_line_id=line.pk).values_list(
                "fulfillment__status", flat=True
            )
        )
        if line.status not in CANCELLABLE or statuses & set(AT_NODE_STATUSES):
            raise TransitionRefused(
                "line_at_node",
                f"Line {line.line_number} of {order.number} is "
                f"{line.get_status_display().lower()}; only lines not yet at a node can be "
                "cancelled.",
                line=line.line_number,
                status=line.status,
            )
        pending = list(
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .select_related("node")
            .filter(
                order_id=order.pk,
                status=FulfillmentStatus.PENDING,
                pk__in=FulfillmentOrderLine.objects.filter(order_line_id=line.pk).values(
                    "fulfillment_id"
                ),
            )
            .order_by("id")
        )
        why = f"line {line.line_number} cancelled: {reason}"[:200]
        released = release_for_order_lines(order_line_ids=[line.pk], actor=actor, reason=why)
        left = [_leave_pending_fulfillment(fo, line, why) for fo in pending]
        line.cancel()
        line.save(update_fields=["status", "updated_at"])
        cancelled = record_event(
            stream=order.stream,
            type=ORDER_LINE_CANCELLED,
            actor=actor,
            payload={
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": line.quantity,
                "released_units": sum(r.quantity for r in released),
                "fulfillments": left,
                "reason": reason,
                "at": timezone.now().isoformat(),
            },
        )
        for fo in pending:
            if fo.status == FulfillmentStatus.CANCELLED:
                _record_fulfillment_cancelled(order, fo, actor, cause=cancelled.event_id)
        rollup_order(order)
    return line


def _leave_pending_fulfillment(fo: FulfillmentOrder, line: OrderLine, why: str) -> dict[str, Any]:
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
    else:
        fo.cancel(at=timezone.now(), reason=why)
        fo.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    return {"fulfillment": fo.number, "units": units, "fulfillment_cancelled": not others}


def _record_fulfillment_cancelled(
    order: Order, fo: FulfillmentOrder, actor: Actor, *, cause: uuid.UUID
) -> None:
    record_event(
        stream=order.stream,
        type=FULFILLMENT_CANCELLED,
        actor=actor,
        causation_id=cause,
        payload={"fulfillment": fo.number, "node": fo.node.code, "reason": fo.close_reason},
    )
