"""Cancelling one order line before it reaches a node (the exception console's "cancel the
line" remedy).

Only lines that are open, backordered or allocated can be cancelled here: their reservations
are given back, the line is cancelled, the order rolls up and `order.line_cancelled` is
recorded, all under the order lock. A line at a node (its fulfillment order released or later)
is refused with `line_at_node`: the node must reject or short it first. A line in a fulfillment
order still pending release is refused with `line_pending_release`.
"""

from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrderLine, FulfillmentStatus
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from fulfillment.services.rollup import rollup_order
from inventory.reservations import release_for_order_lines
from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.events.services import record_event
from oms.ops.events import ORDER_LINE_CANCELLED
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
        if FulfillmentStatus.PENDING in statuses:
            raise TransitionRefused(
                "line_pending_release",
                f"Line {line.line_number} of {order.number} is in a fulfillment order waiting "
                "for release; cancel that fulfillment order first.",
                line=line.line_number,
            )
        released = release_for_order_lines(
            order_line_ids=[line.pk], actor=actor, reason=f"line cancelled: {reason}"[:200]
        )
        line.cancel()
        line.save(update_fields=["status", "updated_at"])
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
        )
        rollup_order(order)
    return line
