"""Cancelling an order, a line or some of its units: the one way in for the API, the admin and
the system (unpaid orders). It decides, under the order lock, where each unit to cancel is:

- not yet at a node (backordered, reserved, or in a fulfillment order pending release): it is
  cancelled at once through orders' `cancel_order_line()` (stock released, fulfillment orders
  updated, the order rolled up; an order with nothing left is cancelled and its authorization
  voided after commit);
- at a node (released, accepted, picking, packed, ready for pickup): a cancel request goes to
  the node (fulfillment/services/node_requests.py) and the units stay until it answers; a
  confirmation cancels them the same way, a refusal (`already_shipped`) records
  `order.cancel_refused`;
- shipped: never cancelled (`not_cancellable`): it comes back as a return.

Units already asked back by an open request are not asked twice.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    NodeRequest,
    NodeRequestKind,
    NodeRequestStatus,
)
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from fulfillment.services.node_requests import open_cancel_units, open_node_request
from inventory.models import ReservationStatus
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput, NotFound, TransitionRefused
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import LineStatus, Order, OrderLine, OrderStatus, PaymentStatus
from orders.services.cancellation import Release, cancel_order_line, line_units


@dataclass
class CancelOutcome:
    """What a cancellation did: units cancelled at once, requests sent to nodes."""

    order: str
    cancelled: list[dict[str, int]] = field(default_factory=list)
    requested: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""


def cancel_order(*, order_id: int, actor: Actor, reason: str) -> CancelOutcome:
    """Cancel everything of the order that has not shipped. Refused `not_cancellable` when the
    order is closed or nothing is left to cancel."""
    _require_reason(reason)
    with transaction.atomic():
        order = lock_order(order_id)
        _require_open(order)
        lines = _locked_lines(order)
        outcome = CancelOutcome(order=order.number)
        plans = [(line, _left_to_cancel(line)) for line in lines]
        if not any(left for _, left in plans):
            raise TransitionRefused(
                OrderErrorCode.NOT_CANCELLABLE,
                f"Nothing of {order.number} is left to cancel: what is not cancelled has shipped "
                "or is already asked back from its node.",
                status=order.status,
            )
        asks: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for line, left in plans:
            if left:
                _cancel_units(order, line, left, actor, reason, outcome, asks)
        _send_requests(order, asks, actor, reason, "order", outcome)
        order.refresh_from_db(fields=["status"])
        outcome.status = order.status
    return outcome


def cancel_line_units(
    *, order_id: int, line_number: int, actor: Actor, reason: str, quantity: int | None = None
) -> CancelOutcome:
    """Cancel `quantity` units of one line (default: all it has left)."""
    _require_reason(reason)
    if quantity is not None and quantity < 1:
        raise InvalidInput(
            [FieldError("quantity_not_positive", "Cancel at least one unit.", "quantity")]
        )
    with transaction.atomic():
        order = lock_order(order_id)
        _require_open(order)
        line = next((x for x in _locked_lines(order) if x.line_number == line_number), None)
        if line is None:
            raise NotFound(
                f"Order {order.number} has no line {line_number}.", code="line_not_found"
            )
        left = _left_to_cancel(line)
        wanted = left if quantity is None else quantity
        if wanted == 0 or wanted > left:
            units = line_units(line)
            raise TransitionRefused(
                OrderErrorCode.NOT_CANCELLABLE,
                f"Line {line_number} of {order.number} has {left} unit(s) left to cancel "
                f"({units.shipped} shipped, {units.cancellable - left} already asked back from "
                "a node).",
                line=line_number,
                cancellable=left,
                shipped=units.shipped,
            )
        outcome = CancelOutcome(order=order.number)
        asks: dict[int, list[dict[str, Any]]] = defaultdict(list)
        _cancel_units(order, line, wanted, actor, reason, outcome, asks)
        _send_requests(order, asks, actor, reason, "line", outcome)
        order.refresh_from_db(fields=["status"])
        outcome.status = order.status
    return outcome


UNPAID = Actor.system("unpaid orders")


def cancel_unpaid_order(*, order_id: int) -> CancelOutcome | None:
    """The system's cancel of an order whose payment failed and was never fixed (the sweeper
    finds them after OMS_UNPAID_ORDER_CANCEL_HOURS). None when it was paid or closed meanwhile
    or nothing is left to cancel."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.payment_status != PaymentStatus.FAILED:
        return None
    hours = settings.OMS_UNPAID_ORDER_CANCEL_HOURS
    try:
        return cancel_order(
            order_id=order_id, actor=UNPAID, reason=f"payment failed and not fixed in {hours} h"
        )
    except TransitionRefused as exc:
        if exc.code == OrderErrorCode.NOT_CANCELLABLE:
            return None
        raise


# --- planning ---------------------------------------------------------------------------------


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput([FieldError("reason_required", "Say why it is cancelled.", "reason")])


def _require_open(order: Order) -> None:
    if order.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        raise TransitionRefused(
            OrderErrorCode.NOT_CANCELLABLE,
            f"Order {order.number} is {order.get_status_display().lower()}.",
            status=order.status,
        )


def _locked_lines(order: Order) -> list[OrderLine]:
    return list(
        OrderLine.objects.select_for_update(of=("self",))
        .filter(order_id=order.pk)
        .exclude(status=LineStatus.CANCELLED)
        .order_by("id")
    )


def _open_cancel_requests(order_line_id: int) -> list[NodeRequest]:
    return list(
        NodeRequest.objects.filter(
            kind=NodeRequestKind.CANCEL,
            status=NodeRequestStatus.OPEN,
            fulfillment__lines__order_line_id=order_line_id,
        ).distinct()
    )


def _left_to_cancel(line: OrderLine) -> int:
    requested = sum(
        int(x["quantity"])
        for request in _open_cancel_requests(line.pk)
        for x in request.lines
        if x["order_line"] == line.pk
    )
    return max(0, line_units(line).cancellable - requested)


def _cancel_units(
    order: Order,
    line: OrderLine,
    wanted: int,
    actor: Actor,
    reason: str,
    outcome: CancelOutcome,
    asks: dict[int, list[dict[str, Any]]],
) -> None:
    units = line_units(line)
    held = list(
        FulfillmentOrderLine.objects.select_related("fulfillment", "reservation")
        .filter(order_line_id=line.pk, reservation__status=ReservationStatus.ACTIVE)
        .order_by("-id")
    )
    in_fo = {fl.reservation_id for fl in held}
    off_node = [
        (fl.reservation_id, fl.reservation.quantity)
        for fl in held
        if fl.fulfillment.status == FulfillmentStatus.PENDING
    ]
    # Active reservations not in any fulfillment order yet (routed, not yet split to nodes).
    loose = units.reserved - sum(fl.reservation.quantity for fl in held)
    now_unreserved = min(wanted, units.unreserved)
    releases: list[Release] = []
    left = wanted - now_unreserved
    if loose and left:
        releases += _loose_releases(line, in_fo, left)
        left -= sum(r.quantity for r in releases)
    for reservation_id, quantity in off_node:
        if not left:
            break
        take = min(left, quantity)
        releases.append(Release(reservation_id, take))
        left -= take
    now = wanted - left
    if now:
        cancel_order_line(
            order_id=order.pk,
            line_id=line.pk,
            actor=actor,
            reason=reason,
            quantity=now,
            releases=releases,
        )
        outcome.cancelled.append({"line_number": line.line_number, "quantity": now})
    if not left:
        return
    requests = _open_cancel_requests(line.pk)
    for fl in held:
        if not left:
            break
        if fl.fulfillment.status not in AT_NODE_STATUSES:
            continue
        free = fl.reservation.quantity - open_cancel_units(requests, fl.pk)
        take = min(left, free)
        if take <= 0:
            continue
        asks[fl.fulfillment_id].append(
            {
                "fulfillment_line": fl.pk,
                "order_line": line.pk,
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": take,
            }
        )
        left -= take


def _loose_releases(line: OrderLine, in_fo: set[int], units: int) -> list[Release]:
    releases = []
    for reservation in line.reservations.filter(status=ReservationStatus.ACTIVE).order_by("-id"):
        if reservation.pk in in_fo or not units:
            continue
        take = min(units, reservation.quantity)
        releases.append(Release(reservation.pk, take))
        units -= take
    return releases


def _send_requests(
    order: Order,
    asks: dict[int, list[dict[str, Any]]],
    actor: Actor,
    reason: str,
    scope: str,
    outcome: CancelOutcome,
) -> None:
    fos = FulfillmentOrder.objects.select_related("node").in_bulk(sorted(asks))
    for fo_id in sorted(asks):
        fo = fos[fo_id]
        request = open_node_request(
            order=order,
            fo=fo,
            kind=NodeRequestKind.CANCEL,
            actor=actor,
            reason=reason,
            lines=asks[fo_id],
            scope=scope,
        )
        outcome.requested.append(
            {
                "request": request.pk,
                "fulfillment": fo.number,
                "node": fo.node.code,
                "units": request.units,
            }
        )
