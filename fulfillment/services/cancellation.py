"""Fulfillment's part of cancelling units of an order line: taking them off the work.

The orders app releases the units' stock and records `order.line_cancelled`
(orders/services/cancellation.py), naming the reservations it gave back (`releases`);
fulfillment owns fulfillment orders, so it reacts to that event in the same transaction
(registered in fulfillment/handlers.py), under the order lock the cancellation holds:

- units at a node (a fulfillment order released or later) are refused with `line_at_node`,
  which rolls the whole cancellation back, unless the event is the node's confirmation of a
  cancel request (`node_request`): the node has agreed to drop them;
- each fulfillment line whose reservation was given back in full leaves its fulfillment order
  (`fulfillment.line_removed`), and a fulfillment order left with nothing is cancelled
  (`fulfillment.cancelled`; it keeps its lines as the record of what it held); one given back
  in part keeps the rest (`fulfillment.line_removed` with the units). Both are caused by the
  `order.line_cancelled` event;
- the order rolls up (an order oms does not own, a legacy mirror, only when no live line is
  left: its progress is the legacy system's); with no live line left it is cancelled
  (`order.cancelled`, with the reason and actor of this cancellation; its authorization is
  voided on commit, fulfillment/handlers.py);
- the payment follows at once: when the cancelled units were the last ones not shipped (a late
  cancel confirmed by the node after the rest shipped, or backordered units cancelled after the
  rest shipped), what shipped is captured on commit instead of when the sweeper finds the order
  (PAYMENT_GRACE, fulfillment/services/sweeper.py, stays the safety net).
"""

from collections import defaultdict

from django.utils import timezone

from fulfillment.events import FULFILLMENT_CANCELLED, FULFILLMENT_LINE_REMOVED
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES, OPEN_STATUSES
from fulfillment.services.feedback import schedule_payment_capture_if_due
from fulfillment.services.rollup import rollup_order
from inventory.models import ReservationStatus
from oms.core.actors import Actor
from oms.core.errors import TransitionRefused
from oms.events.models import Event
from oms.events.services import record_event
from orders.exceptions import OrderErrorCode
from orders.models import LineStatus, Order, OrderLine, OrderStatus, PaymentStatus
from orders.ownership import OrderOwner

# After a cancel, an order in one of these statuses has nothing left to ship: what shipped is due.
ALL_SHIPPED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
UNCAPTURED = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


def take_cancelled_line_off(*, line: OrderLine, actor: Actor, cause: Event) -> None:
    """The line's units were just cancelled in this transaction (`cause` is its
    `order.line_cancelled`); `line.order` is the order, locked by the caller."""
    order = line.order
    released = {int(r["reservation"]): int(r["units"]) for r in cause.payload.get("releases", [])}
    if "releases" not in cause.payload:
        # An event of the older shape (whole lines): every fulfillment line of the line.
        released = dict(
            FulfillmentOrderLine.objects.filter(order_line_id=line.pk).values_list(
                "reservation_id", "quantity"
            )
        )
    touched = list(
        FulfillmentOrderLine.objects.select_related("reservation")
        .filter(reservation_id__in=released, fulfillment__status__in=OPEN_STATUSES)
        .order_by("id")
    )
    fo_ids = sorted({fl.fulfillment_id for fl in touched})
    fos = {
        fo.pk: fo
        for fo in FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("node")
        .filter(pk__in=fo_ids)
        .order_by("id")
    }
    at_node = sorted({fos[fl.fulfillment_id].status for fl in touched} & set(AT_NODE_STATUSES))
    if at_node and cause.payload.get("node_request") is None:
        raise TransitionRefused(
            OrderErrorCode.LINE_AT_NODE,
            f"Line {line.line_number} of {order.number} is at a node "
            f"({', '.join(at_node)}); only units not yet at a node can be cancelled at once.",
            line=line.line_number,
            status=at_node[0],
        )
    why = f"line {line.line_number} cancelled: {cause.payload.get('reason', '')}"[:200]
    by_fo: dict[int, list[FulfillmentOrderLine]] = defaultdict(list)
    for fl in touched:
        by_fo[fl.fulfillment_id].append(fl)
    for fo_id in fo_ids:
        _take_off(order, fos[fo_id], by_fo[fo_id], line, why, actor=actor, cause=cause)
    if (
        order.owner != OrderOwner.OMS
        and OrderLine.objects.filter(order_id=order.pk)
        .exclude(status=LineStatus.CANCELLED)
        .exists()
    ):
        # oms does not own the order (a legacy mirror): nothing reserved means nothing about
        # its progress, which is the legacy system's; only a cancel of everything closes it.
        return
    rollup_order(
        order,
        cancel_reason=str(cause.payload.get("reason", "")),
        cancel_actor=actor,
        cause=cause,
    )
    if order.status in ALL_SHIPPED and order.payment_status in UNCAPTURED:
        # capture_shipped_payment() is idempotent (a key per fulfillment order): a capture
        # already scheduled by the last shipment charges nothing twice.
        schedule_payment_capture_if_due(order.pk)


def _take_off(
    order: Order,
    fo: FulfillmentOrder,
    mine: list[FulfillmentOrderLine],
    line: OrderLine,
    why: str,
    *,
    actor: Actor,
    cause: Event,
) -> None:
    """Take the cancelled units off one fulfillment order (their reservations are released, in
    full or in part, already)."""
    units = 0
    gone = []
    for fl in mine:
        reservation = fl.reservation
        reservation.refresh_from_db(fields=["status", "quantity"])
        if reservation.status == ReservationStatus.ACTIVE:
            units += fl.quantity - reservation.quantity
            fl.quantity = reservation.quantity
            fl.save(update_fields=["quantity", "updated_at"])
        else:
            units += fl.quantity
            gone.append(fl)
    others = (
        fo.lines.exclude(pk__in=[fl.pk for fl in gone])
        .filter(reservation__status=ReservationStatus.ACTIVE)
        .exists()
    )
    if others:
        FulfillmentOrderLine.objects.filter(pk__in=[fl.pk for fl in gone]).delete()
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
