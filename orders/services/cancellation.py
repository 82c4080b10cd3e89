"""Cancelling one order line before it reaches a node (the order page's "Cancel line" action and
the exception console's "cancel lines" remedy).

A line that is open, backordered or allocated can be cancelled; all of it happens under the
order lock in one transaction:

1. its reservations are released (reserved falls, available rises, one `release` movement
   each), whether or not they are in a fulfillment order yet;
2. the line is cancelled and `order.line_cancelled` is recorded;
3. fulfillment, which owns fulfillment orders, reacts to that event in the same transaction
   (fulfillment/services/cancellation.py): it refuses a line already at a node, takes the line
   off every fulfillment order still pending release (or cancels one left with nothing), and
   rolls the order up.

A line at a node (any fulfillment order of it released or later) is refused with
`line_at_node`: the node must reject or short it first. Whole lines only: a line has one
quantity and its prices, so there is no partial quantity to cancel.
"""

from django.db import transaction
from django.utils import timezone

from inventory.reservations import release_for_order_lines
from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.events.services import record_event
from orders.events import ORDER_LINE_CANCELLED
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import LineStatus, OrderLine

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
        if line.status not in CANCELLABLE:
            raise TransitionRefused(
                OrderErrorCode.LINE_AT_NODE,
                f"Line {line.line_number} of {order.number} is "
                f"{line.get_status_display().lower()}; only lines not yet at a node can be "
                "cancelled.",
                line=line.line_number,
                status=line.status,
            )
        why = f"line {line.line_number} cancelled: {reason}"[:200]
        released = release_for_order_lines(order_line_ids=[line.pk], actor=actor, reason=why)
        line.cancel()
        line.save(update_fields=["status", "updated_at"])
        line.order = order  # the handlers get the locked order with the line
        record_event(
            stream=order.stream,
            type=ORDER_LINE_CANCELLED,
            actor=actor,
            payload={
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": line.quantity,
                "released_units": sum(r.quantity for r in released),
                "reason": reason,
                "at": timezone.now().isoformat(),
            },
            subject=line,
        )
    return line
