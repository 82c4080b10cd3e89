"""Holds: reasons not to release an order (fraud review, payment, address, manual)."""

from functools import partial

from django.db import transaction
from django.utils import timezone

from fulfillment.tasks import orchestrate_order_task
from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.events.services import record_event
from oms.ops.services.cases import (
    raise_exception_case_for_hold,
    resolve_cases_of_released_hold,
)
from orders.events import ORDER_HOLD_PLACED, ORDER_HOLD_RELEASED
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import OPEN_ORDER_STATUSES, Hold, HoldStatus


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
        hold = Hold(order=order, kind=kind, reason=reason, placed_by=actor.label)
        hold.save(force_insert=True)
        record_event(
            stream=order.stream,
            type=ORDER_HOLD_PLACED,
            actor=actor,
            payload={"hold_id": hold.pk, "kind": kind, "reason": reason},
        )
        raise_exception_case_for_hold(order=order, hold=hold, actor=actor)
    return hold


def release_hold(*, order_id: int, hold_id: int, actor: Actor, note: str = "") -> Hold:
    """Release one active hold. When it was the last, orchestration is scheduled on commit.
    The exception case raised for the hold (fraud, address, payment) is resolved by the system
    in the same transaction. Releasing an already released hold is refused with
    `hold_not_active`."""
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
        )
        resolve_cases_of_released_hold(order=order, hold=hold)
        if remaining == 0:
            transaction.on_commit(partial(orchestrate_order_task.delay, order.pk))
    return hold
