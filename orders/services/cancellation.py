"""Cancelling units of an order line: the orders part (customer service's "Cancel line", the
API's cancel endpoints, the exception console's "cancel lines" remedy and the system all end
here, most of them through fulfillment/services/order_cancellation.py, which decides which
units can go at once and which must be asked back from a node first).

All of it happens under the order lock in one transaction:

1. the units' stock is released: first units nothing holds (backordered), then the
   reservations the caller names (`releases`), or by default the line's newest active
   reservations; a reservation may be released in part (`inventory.reservations.release_units`);
2. the line's `cancelled_quantity` grows; a line with nothing left is cancelled;
   `order.line_cancelled` is recorded with the quantity, the reason and the actor;
3. fulfillment, which owns fulfillment orders, reacts to that event in the same transaction
   (fulfillment/services/cancellation.py): it refuses units at a node unless the node confirmed
   the cancellation (`node_request`), takes the units off fulfillment orders, and rolls the
   order up; an order left with no live line is cancelled there (`order.cancelled`).

Units that shipped can never be cancelled (`not_cancellable`): they come back as a return.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.models import Reservation, ReservationStatus
from inventory.reservations import release_units
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput, NotFound, TransitionRefused
from oms.events.services import record_event
from orders.events import ORDER_LINE_CANCELLED
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import LineStatus, Order, OrderLine

# The statuses whose every unit is still off any node: the whole-line cancel of the admin's
# older dialog and the console's remedy (they name no reservations).
CANCELLABLE = (LineStatus.OPEN, LineStatus.BACKORDERED, LineStatus.ALLOCATED)


@dataclass(frozen=True)
class Release:
    reservation_id: int
    quantity: int


@dataclass(frozen=True)
class LineUnits:
    """Where a line's live units are, as the orders layer sees them (inventory below it)."""

    live: int
    shipped: int
    reserved: int  # held by active reservations (fulfillment knows which are at a node)

    @property
    def unreserved(self) -> int:
        return max(0, self.live - self.shipped - self.reserved)

    @property
    def cancellable(self) -> int:
        return max(0, self.live - self.shipped)


def line_units(line: OrderLine) -> LineUnits:
    rows = (
        Reservation.objects.filter(
            order_line_id=line.pk, status__in=[ReservationStatus.ACTIVE, ReservationStatus.CONSUMED]
        )
        .values("status")
        .annotate(quantity=Sum("quantity"), consumed=Sum("consumed_quantity"))
    )
    reserved = shipped = 0
    for row in rows:
        if row["status"] == ReservationStatus.ACTIVE:
            reserved += row["quantity"] or 0
        else:
            shipped += row["consumed"] or 0
    return LineUnits(live=line.live_quantity, shipped=shipped, reserved=reserved)


def cancel_order_line(
    *,
    order_id: int,
    line_id: int,
    actor: Actor,
    reason: str,
    quantity: int | None = None,
    releases: list[Release] | None = None,
    node_request: int | None = None,
) -> OrderLine:
    """Cancel `quantity` units of the line (default: every unit not shipped). `releases`: the
    reservations (and units) to give back after the unreserved units; None = the line's newest
    active reservations, and then the line must be wholly off any node (`line_at_node`
    otherwise, the older whole-line contract). `node_request`: the node request whose
    confirmation this is (its units were at that node). Locks the order and the line; records
    `order.line_cancelled`."""
    if quantity is not None and quantity < 1:
        raise InvalidInput(
            [FieldError("quantity_not_positive", "Cancel at least one unit.", "quantity")]
        )
    with transaction.atomic():
        order = lock_order(order_id)
        line = (
            OrderLine.objects.select_for_update(of=("self",))
            .filter(pk=line_id, order_id=order.pk)
            .first()
        )
        if line is None:
            raise NotFound(f"Order {order.number} has no line {line_id}.", code="line_not_found")
        if releases is None and node_request is None and line.status not in CANCELLABLE:
            raise TransitionRefused(
                OrderErrorCode.LINE_AT_NODE,
                f"Line {line.line_number} of {order.number} is "
                f"{line.get_status_display().lower()}; only lines not yet at a node can be "
                "cancelled.",
                line=line.line_number,
                status=line.status,
            )
        units = line_units(line)
        wanted = units.cancellable if quantity is None else quantity
        if line.status == LineStatus.CANCELLED or wanted == 0 or wanted > units.cancellable:
            raise not_cancellable(order, line, units)
        why = f"line {line.line_number} cancelled: {reason}"[:200]
        # A node's confirmation gives back exactly the units that were at it.
        held = wanted if node_request is not None else wanted - min(wanted, units.unreserved)
        released = _release(line, held, releases, actor, why)
        line.cancelled_quantity += wanted
        fields = ["cancelled_quantity", "updated_at"]
        if line.live_quantity == 0:
            line.cancel()
            fields.append("status")
        line.save(update_fields=fields)
        line.order = order  # the handlers get the locked order with the line
        payload = {
            "line_number": line.line_number,
            "sku": line.sku,
            "quantity": wanted,
            "cancelled_quantity": line.cancelled_quantity,
            "remaining": line.live_quantity,
            "released_units": sum(units for _, units in released),
            "releases": [{"reservation": pk, "units": units} for pk, units in released if units],
            "reason": reason,
            "actor": actor.label,
            "at": timezone.now().isoformat(),
        }
        if node_request is not None:
            payload["node_request"] = node_request
        record_event(
            stream=order.stream,
            type=ORDER_LINE_CANCELLED,
            actor=actor,
            payload=payload,
            subject=line,
        )
    return line


def not_cancellable(order: Order, line: OrderLine, units: LineUnits) -> TransitionRefused:
    if line.status == LineStatus.CANCELLED or units.live == 0:
        detail = f"Line {line.line_number} of {order.number} is already cancelled."
    else:
        detail = (
            f"Line {line.line_number} of {order.number} has {units.cancellable} unit(s) left "
            f"to cancel ({units.shipped} shipped: shipped units come back as a return)."
        )
    return TransitionRefused(
        OrderErrorCode.NOT_CANCELLABLE,
        detail,
        line=line.line_number,
        cancellable=units.cancellable,
        shipped=units.shipped,
    )


def _release(
    line: OrderLine, reserved_units: int, releases: list[Release] | None, actor: Actor, why: str
) -> list[tuple[int, int]]:
    """Give back `reserved_units` held units of the line: the named releases, or its newest
    active reservations. Returns (reservation id, units released) pairs."""
    if reserved_units <= 0:
        return []
    if releases is None:
        releases = []
        left = reserved_units
        for reservation in Reservation.objects.filter(
            order_line_id=line.pk, status=ReservationStatus.ACTIVE
        ).order_by("-id"):
            take = min(left, reservation.quantity)
            releases.append(Release(reservation.pk, take))
            left -= take
            if left == 0:
                break
    if sum(r.quantity for r in releases) != reserved_units:
        raise TransitionRefused(
            OrderErrorCode.NOT_CANCELLABLE,
            f"Line {line.line_number}: {reserved_units} held unit(s) must be released to cancel "
            "them, but the releases cover a different number.",
            line=line.line_number,
        )
    return [
        (
            r.reservation_id,
            release_units(
                reservation_id=r.reservation_id, quantity=r.quantity, actor=actor, reason=why
            ),
        )
        for r in sorted(releases, key=lambda r: r.reservation_id)
    ]
