"""hand_back_order(): a rollback gives an oms order that no node has yet to the legacy system.

Under the order lock: an order still created, backordered or allocated, whose fulfillment
orders are all pending (never sent to a node), has its pending fulfillment orders cancelled
(`fulfillment.cancelled`), every reservation released (ledger `release` rows), its status moved
to `handed_back` and its owner to `legacy`, and `order.handed_back` recorded. The migration app
reacts to that event by queueing the order for the legacy system in its format (outbox), in the
same transaction. Anything already at a node (released or further) finishes in oms: the
function answers False and changes nothing. Idempotent: a second call finds it handed back.
"""

from django.db import transaction
from django.utils import timezone

from fulfillment.events import FULFILLMENT_CANCELLED
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from inventory.reservations import release_for_order_lines
from oms.core.actors import Actor
from oms.events.services import record_event
from orders.events import ORDER_HANDED_BACK, ORDER_LINE_HANDED_BACK
from orders.locks import lock_order
from orders.models import LineStatus, OrderLine, OrderStatus
from orders.ownership import OrderOwner

HANDABLE_STATUSES = (OrderStatus.CREATED, OrderStatus.BACKORDERED, OrderStatus.ALLOCATED)


def hand_back_order(*, order_id: int, actor: Actor, reason: str) -> bool:
    """True when the order was handed back now; False when it stays with oms (at a node,
    closed, not oms's) or was handed back before."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.owner != OrderOwner.OMS or order.status not in HANDABLE_STATUSES:
            return False
        fos = list(
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .filter(order_id=order.pk)
            .select_related("node")
            .order_by("id")
        )
        live = [fo for fo in fos if fo.status != FulfillmentStatus.CANCELLED]
        if any(fo.status != FulfillmentStatus.PENDING for fo in live):
            return False  # a node has (or had) part of it: it finishes in oms
        now = timezone.now()
        lines = list(
            OrderLine.objects.select_for_update(of=("self",))
            .filter(order_id=order.pk)
            .order_by("line_number")
        )
        released = release_for_order_lines(
            order_line_ids=[line.pk for line in lines], actor=actor, reason="handed_back"
        )
        units_by_line: dict[int, int] = {}
        for reservation in released:
            units_by_line[reservation.order_line_id] = (
                units_by_line.get(reservation.order_line_id, 0) + reservation.quantity
            )
        for fo in live:
            fo.cancel(at=now, reason="handed back to the legacy system")
            fo.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
            record_event(
                stream=order.stream,
                type=FULFILLMENT_CANCELLED,
                actor=actor,
                payload={
                    "fulfillment": fo.number,
                    "node": fo.node.code,
                    "reason": fo.close_reason,
                    "units": sum(fl.quantity for fl in fo.lines.all()),
                },
            )
        for line in lines:
            if line.status == LineStatus.CANCELLED:
                continue  # cancelled before: nothing of it goes to the legacy system
            line_before = line.status
            line.hand_back()
            line.save(update_fields=["status", "updated_at"])
            record_event(
                stream=order.stream,
                type=ORDER_LINE_HANDED_BACK,
                actor=actor,
                payload={
                    "order": order.number,
                    "line_number": line.line_number,
                    "sku": line.sku,
                    "quantity": line.live_quantity,
                    "status_before": line_before,
                    "units_released": units_by_line.get(line.pk, 0),
                },
                subject=line,
            )
        status_before = order.status
        order.hand_back(at=now)
        order.give_to_legacy()
        order.save(update_fields=["status", "owner", "handed_back_at", "updated_at"])
        record_event(
            stream=order.stream,
            type=ORDER_HANDED_BACK,
            actor=actor,
            payload={
                "order": order.number,
                "status_before": status_before,
                "reason": reason,
                "reservations_released": len(released),
                "units_released": sum(r.quantity for r in released),
                "fulfillments_cancelled": [fo.number for fo in live],
            },
            subject=order,
        )
    return True
