"""Holds: reasons not to release an order (fraud review, payment, address, manual)."""

from django.db import transaction
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.events.services import record_event
from orders.events import ORDER_HOLD_PLACED, ORDER_HOLD_RELEASED
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import OPEN_ORDER_STATUSES, Hold, HoldStatus, Order

# What follows a hold is up to the apps above orders, through handlers of these events
# (oms/events/handlers.py): `order.hold_placed` opens the exception case of a fraud, address or
# payment hold (ops/handlers.py); `order.hold_released` resolves it, and when it was the last
# active hold, orchestration is scheduled on commit (fulfillment/handlers.py).


def place_hold(*, order_id: int, kind: str, reason: str, actor: Actor) -> Hold:
    """Put a hold of `kind` on an open order. Idempotent: an active hold of the same kind is
    returned as it is, with no second event. Locks the order row."""
    with transaction.atomic():
        order = lock_order(order_id)
        active = order.holds.filter(kind=kind, status=HoldStatus.ACTIVE).first()
        if active is not None:
            return active
        if order.status not in OPEN_ORDER_STATUSES:
            raise TransitionRefused(
                "order_not_holdable",
                f"Order {order.number} is {order.get_status_display().lower()}; "
                "only open orders can be held.",
                number=order.number,
            )
        return hold_order(order, kind=kind, reason=reason, actor=actor)


def hold_order(order: Order, *, kind: str, reason: str, actor: Actor) -> Hold:
    """Insert the hold and record `order.hold_placed`: the one place a hold is written, for
    `place_hold()` and for holds requested at capture. The caller runs the transaction and holds
    the order (locked, or inserted by this very transaction)."""
    hold = Hold(order=order, kind=kind, reason=reason, placed_by=actor.label)
    hold.save(force_insert=True)
    record_event(
        stream=order.stream,
        type=ORDER_HOLD_PLACED,
        actor=actor,
        payload={"hold_id": hold.pk, "kind": kind, "reason": reason},
        subject=order,
    )
    return hold


def release_hold(*, order_id: int, hold_id: int, actor: Actor, note: str = "") -> Hold:
    """Release one active hold. When it was the last, orchestration is scheduled on commit,
    and the exception case raised for the hold (fraud, address, payment) is resolved by the
    system in the same transaction (both by handlers of `order.hold_released`). Releasing an
    already released hold is refused with `hold_not_active`."""
    with transaction.atomic():
        order = lock_order(order_id)
        hold = order.holds.filter(pk=hold_id).first()
        if hold is None:
            raise NotFound(f"Order {order.number} has no hold {hold_id}.", code="hold_not_found")
        if hold.status != HoldStatus.ACTIVE:
            raise TransitionRefused(
                OrderErrorCode.HOLD_NOT_ACTIVE,
                f"Hold {hold_id} is already released.",
                hold_id=hold_id,
            )
        hold.release(by=actor.label, at=timezone.now(), note=note)
        hold.save(
            update_fields=["status", "released_by", "released_at", "release_note", "updated_at"]
        )
        remaining = order.holds.filter(status=HoldStatus.ACTIVE).count()
        record_event(
            stream=order.stream,
            type=ORDER_HOLD_RELEASED,
            actor=actor,
            payload={
                "hold_id": hold.pk,
                "kind": hold.kind,
                "note": note,
                "active_holds_remaining": remaining,
            },
            subject=order,
        )
    return hold
