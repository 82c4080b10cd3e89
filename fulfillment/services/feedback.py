"""What nodes tell us about their work: accept, reject, pick, pack (with short quantities),
ready for pickup, hand-over, expiry. Shipping and delivery are in shipping.py.

Every service here:
- takes an optional `message` (source + message id + payload); with one, a message that arrives
  twice is recognised and acknowledged without a second effect (integrations.InboundMessage,
  written in the same transaction as the effect). The same id is the same message only for the
  same fulfillment order, the same action (the message kind) and the same body; otherwise it is
  refused `message_id_reused` (409), naming the fulfillment order and action it was first used
  for, and nothing happens;
- locks the order, then the fulfillment order (the project's lock order);
- calls one FSM transition (a refused move is a 409 with the current status), saves with
  update_fields, records the event, rolls statuses up, and schedules follow-up work on commit:
  a rejection or short pick sends the remainder back to routing (reroute), excluding that node.

A short pick (or short shipment, shipping.py) is evidence that the node's count is wrong: the
short units are written off that node's on-hand with their reservation in the same transaction
(inventory/services/shortages.py, a `shortage` ledger movement), so they do not go back on sale
there; inventory records `inventory.shortage_recorded`, which opens a cycle_count case.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from fulfillment.events import (
    FULFILLMENT_ACCEPTED,
    FULFILLMENT_EXPIRED,
    FULFILLMENT_PACKED,
    FULFILLMENT_PICKED_UP,
    FULFILLMENT_PICKING,
    FULFILLMENT_PICKUP_CODE_FAILED,
    FULFILLMENT_PICKUP_LOCKED,
    FULFILLMENT_PICKUP_UNLOCKED,
    FULFILLMENT_READY,
    FULFILLMENT_REJECTED,
)
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    RoutingTrigger,
)
from fulfillment.services.rollup import rollup_order
from integrations.services import MessageIdReused, finish_message, receive_message
from inventory.reservations import WriteOff, consume, release
from inventory.services.shortages import record_shortages
from oms.core.actors import Actor
from oms.core.errors import DomainError, FieldError, InvalidInput, NotFound, TransitionRefused
from oms.core.transactions import enqueue_on_commit
from oms.events.models import Event
from oms.events.services import record_event
from orders.locks import lock_order
from orders.models import LineStatus, Order, OrderLine


@dataclass(frozen=True)
class FeedbackMessage:
    """Where a piece of feedback came from, for deduplication and the inbound log."""

    source: str  # "node-api:<client prefix>", "store:<username>", "sim:<node>", "x12:<node>"
    message_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    # The logged kind when the sender's message is not one action (a 945 advice, `x12.945`,
    # ships or rejects as its content says); by default the service's own (fulfillment.accept…).
    kind: str = ""


def action_of(kind: str) -> str:
    """A message kind in the node API's words: fulfillment.hand_over → hand_over."""
    return kind.removeprefix("fulfillment.")


def reused_for_fulfillment(exc: MessageIdReused) -> MessageIdReused:
    """`message_id_reused` naming the fulfillment order and action the id was first used for."""
    number, action = exc.first_subject, action_of(exc.first_kind)
    return MessageIdReused(
        exc.source,
        exc.message_id,
        detail=f"Message id {exc.message_id!r} from {exc.source} was first used for {action} "
        f"on fulfillment {number}. The same id is the same message only for the same "
        "fulfillment, action and body: use a new message id for a new message.",
        extra={"message_id": exc.message_id, "fulfillment": number, "action": action},
    )


@dataclass
class Locked:
    order: Order
    fo: FulfillmentOrder
    duplicate: bool = False
    reroute: bool = False
    result: dict[str, Any] = field(default_factory=dict)


# Pickup codes are 8 random digits (10^8 values): with OMS_PICKUP_CODE_MAX_ATTEMPTS wrong tries
# (default 5) per fulfillment order before the hand-over locks, a guesser's chance is 5 in 10^8.
PICKUP_CODE_DIGITS = 8


def new_pickup_code() -> str:
    return f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


class WrongPickupCode(DomainError):
    def __init__(self, attempts_left: int | None = None) -> None:
        left = ""
        if attempts_left is not None:
            tries = "try" if attempts_left == 1 else "tries"
            left = f" {attempts_left} {tries} left before the hand-over locks."
        super().__init__(
            code="pickup_code_mismatch",
            detail="That pickup code does not match this order. Check the code the customer "
            f"shows and try again.{left}",
            http_status=400,
            extra={} if attempts_left is None else {"attempts_left": attempts_left},
        )


class PickupLocked(DomainError):
    def __init__(self, number: str, attempts: int) -> None:
        super().__init__(
            code="pickup_locked",
            detail=f"The hand-over of {number} is locked after {attempts} wrong pickup codes. "
            "A store lead (or operations) must unlock it before the parcel can be handed over.",
            http_status=409,
            extra={"fulfillment": number, "attempts": attempts},
        )


def lock_fulfillment(fulfillment_id: int) -> tuple[Order, FulfillmentOrder]:
    order_id = (
        FulfillmentOrder.objects.filter(pk=fulfillment_id)
        .values_list("order_id", flat=True)
        .order_by()
        .first()
    )
    if order_id is None:
        raise NotFound(f"No fulfillment order {fulfillment_id}.", code="fulfillment_not_found")
    order = lock_order(order_id)
    fo = (
        FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("node")
        .get(pk=fulfillment_id)
    )
    return order, fo


@contextmanager
def feedback(fulfillment_id: int, message: FeedbackMessage | None, kind: str) -> Iterator[Locked]:
    """One unit of node feedback: transaction, dedup, locks, rollup, reroute on commit."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment_id)
        state = Locked(order=order, fo=fo)
        received = None
        if message is not None:
            try:
                received = receive_message(
                    source=message.source,
                    message_id=message.message_id,
                    kind=message.kind or kind,
                    payload=message.payload,
                    subject=fo.number,
                )
            except MessageIdReused as exc:
                raise reused_for_fulfillment(exc) from None
            if received.duplicate:
                state.duplicate = True
                yield state
                return
        yield state
        rollup_order(order)
        if received is not None:
            finish_message(
                received.message,
                result={"fulfillment": fo.number, "status": fo.status, **state.result},
            )
        if state.reroute:
            schedule_reroute(order.pk)


def schedule_reroute(order_id: int) -> None:
    # Seam: fulfillment.tasks imports the services, so the task is imported where used.
    from fulfillment.tasks import orchestrate_order_task  # noqa: PLC0415

    transaction.on_commit(
        partial(orchestrate_order_task.delay, order_id, RoutingTrigger.REROUTE.value)
    )


def transition(fo: FulfillmentOrder, name: str, **kwargs: Any) -> None:
    try:
        getattr(fo, name)(**kwargs)
    except TransitionNotAllowed:
        raise TransitionRefused(
            "fulfillment_transition_refused",
            f"Fulfillment {fo.number} is {fo.get_status_display().lower()}; it cannot "
            f"{name.replace('_', ' ')} now.",
            fulfillment=fo.number,
            status=fo.status,
            action=name,
        ) from None


def _event(state: Locked, type_: str, actor: Actor, **payload: Any) -> None:
    record_event(
        stream=state.order.stream,
        type=type_,
        actor=actor,
        payload={"fulfillment": state.fo.number, "node": state.fo.node.code, **payload},
        subject=state.fo,
    )


def accept_fulfillment(
    *, fulfillment_id: int, actor: Actor, message: FeedbackMessage | None = None
) -> FulfillmentOrder:
    with feedback(fulfillment_id, message, "fulfillment.accept") as state:
        if state.duplicate:
            return state.fo
        transition(state.fo, "accept", at=timezone.now())
        state.fo.save(update_fields=["status", "accepted_at", "updated_at"])
        _event(state, FULFILLMENT_ACCEPTED, actor)
    return state.fo


def start_picking(
    *, fulfillment_id: int, actor: Actor, message: FeedbackMessage | None = None
) -> FulfillmentOrder:
    with feedback(fulfillment_id, message, "fulfillment.pick") as state:
        if state.duplicate:
            return state.fo
        transition(state.fo, "start_picking", at=timezone.now())
        state.fo.save(update_fields=["status", "accepted_at", "picking_at", "updated_at"])
        _event(state, FULFILLMENT_PICKING, actor)
    return state.fo


def reject_fulfillment(
    *, fulfillment_id: int, reason: str, actor: Actor, message: FeedbackMessage | None = None
) -> FulfillmentOrder:
    """The node will not do it: its reservations are released and the order is rerouted to
    the next best node (never this one again for this order)."""
    if not reason.strip():
        raise InvalidInput(
            [FieldError("reason_required", "Say why the node rejects it.", "reason")]
        )
    with feedback(fulfillment_id, message, "fulfillment.reject") as state:
        if state.duplicate:
            return state.fo
        transition(state.fo, "reject", at=timezone.now(), reason=reason)
        state.fo.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
        released = release(
            reservation_ids=list(state.fo.lines.values_list("reservation_id", flat=True)),
            actor=actor,
            reason=f"rejected by {state.fo.node.code}: {reason}"[:200],
        )
        _event(
            state,
            FULFILLMENT_REJECTED,
            actor,
            reason=reason,
            released_units=sum(r.quantity for r in released),
        )
        state.reroute = True  # and a node_rejected exception case (ops/handlers.py)
    return state.fo


def pack_fulfillment(
    *,
    fulfillment_id: int,
    actor: Actor,
    picked: dict[int, int] | None = None,
    short_reason: str = "",
    message: FeedbackMessage | None = None,
) -> FulfillmentOrder:
    """Picked and packed. `picked` maps fulfillment line id → units found; missing lines are
    taken as fully picked. Short quantities are written off this node's on-hand (they await a
    count there) and rerouted elsewhere."""
    with feedback(fulfillment_id, message, "fulfillment.pack") as state:
        if state.duplicate:
            return state.fo
        transition(state.fo, "pack", at=timezone.now())
        state.fo.save(update_fields=["status", "accepted_at", "packed_at", "updated_at"])
        shorts = record_picked(state, picked or {}, short_reason, actor)
        _event(state, FULFILLMENT_PACKED, actor, short=shorts, short_reason=short_reason)
        state.reroute = bool(shorts)  # a short pick is a short_pick case (ops/handlers.py)
        state.result["short"] = shorts
    return state.fo


def record_picked(
    state: Locked, picked: dict[int, int], reason: str, actor: Actor
) -> list[dict[str, Any]]:
    lines = {line.pk: line for line in state.fo.lines.select_related("order_line")}
    unknown = sorted(set(picked) - set(lines))
    errors = [
        FieldError("unknown_line", f"Fulfillment {state.fo.number} has no line {i}.", f"lines[{i}]")
        for i in unknown
    ]
    errors += [
        FieldError(
            "picked_out_of_range",
            f"Picked {qty} of line {i}, which asks for {lines[i].quantity}.",
            f"lines[{i}].picked_quantity",
        )
        for i, qty in sorted(picked.items())
        if i in lines and not 0 <= qty <= lines[i].quantity
    ]
    if errors:
        raise InvalidInput(errors)
    shorts, write_offs = [], []
    for line_id, line in sorted(lines.items()):
        found = picked.get(line_id, line.quantity)
        line.picked_quantity = found
        line.short_quantity = line.quantity - found
        line.short_reason = reason[:200] if line.short_quantity else ""
        line.save(update_fields=["picked_quantity", "short_quantity", "short_reason", "updated_at"])
        if line.short_quantity:
            write_offs.append(WriteOff(line.reservation_id, line.short_quantity))
            shorts.append(
                {
                    "line_number": line.order_line.line_number,
                    "sku": line.order_line.sku,
                    "short": line.short_quantity,
                }
            )
    # Not given back: the node could not find them, so they leave its on-hand (and await a
    # count) rather than going back on sale where the next order would be routed to them.
    record_shortages(
        shortages=write_offs,
        actor=actor,
        reason=f"short at {state.fo.node.code}: {reason}",
        reference=state.fo.number,
    )
    return shorts


def mark_ready_for_pickup(
    *, fulfillment_id: int, actor: Actor, message: FeedbackMessage | None = None
) -> FulfillmentOrder:
    """Packed and waiting at the store: issues the pickup code the customer will show and
    records the event that notifies them. The code is not in the event: the webhook adds it
    from this fulfillment order at send time (pickup_code_for_notice)."""
    with feedback(fulfillment_id, message, "fulfillment.ready") as state:
        if state.duplicate:
            return state.fo
        now = timezone.now()
        expires_at = now + timedelta(days=settings.OMS_PICKUP_HOLD_DAYS)
        transition(
            state.fo,
            "mark_ready",
            at=now,
            code=new_pickup_code(),
            expires_at=expires_at,
        )
        state.fo.save(
            update_fields=["status", "ready_at", "pickup_code", "pickup_expires_at", "updated_at"]
        )
        _event(
            state,
            FULFILLMENT_READY,
            actor,
            expires_at=expires_at.isoformat(),
            customer_email_on_file=bool(state.order.customer_email),
        )
    return state.fo


def pickup_code_for_notice(event: Event) -> dict[str, Any]:
    """The code for the `fulfillment.ready_for_pickup` webhook (oms/events/outbound.py): from
    the fulfillment order while the parcel still waits; after hand-over or expiry, none."""
    number = (event.payload or {}).get("fulfillment")
    code = (
        FulfillmentOrder.objects.filter(number=number, status=FulfillmentStatus.READY_FOR_PICKUP)
        .values_list("pickup_code", flat=True)
        .first()
    )
    return {"pickup_code": code or None}


def hand_over(
    *,
    fulfillment_id: int,
    pickup_code: str,
    actor: Actor,
    message: FeedbackMessage | None = None,
) -> FulfillmentOrder:
    """The customer collected it after showing the right code: the stock is consumed.

    A wrong code is counted in its own transaction (the hand-over's rolls back): the event
    `fulfillment.pickup_code_failed` carries the attempt count, never the code. At
    OMS_PICKUP_CODE_MAX_ATTEMPTS the hand-over locks (`pickup_locked`, 409, and an exception
    case through the `fulfillment.pickup_locked` event) until `unlock_pickup()`; while locked,
    even the right code is refused."""
    try:
        with feedback(fulfillment_id, message, "fulfillment.hand_over") as state:
            if state.duplicate:
                return state.fo
            if state.fo.status == FulfillmentStatus.READY_FOR_PICKUP:
                if state.fo.pickup_locked_at is not None:
                    raise PickupLocked(state.fo.number, state.fo.pickup_failed_attempts)
                if not secrets.compare_digest(
                    pickup_code.strip().encode(), state.fo.pickup_code.encode()
                ):
                    raise WrongPickupCode()
            transition(state.fo, "hand_over", at=timezone.now())
            state.fo.save(update_fields=["status", "picked_up_at", "pickup_code", "updated_at"])
            consume_lines(state.fo, actor)
            _event(state, FULFILLMENT_PICKED_UP, actor)
    except WrongPickupCode:
        raise count_wrong_pickup_code(
            fulfillment_id=fulfillment_id,
            actor=actor,
            message=f"{message.source}/{message.message_id}" if message else "",
        ) from None
    schedule_payment_capture_if_due(state.order.pk)
    return state.fo


def count_wrong_pickup_code(*, fulfillment_id: int, actor: Actor, message: str = "") -> DomainError:
    """Record one wrong pickup code (its own transaction) and return the refusal to raise:
    `pickup_code_mismatch` with the tries left, or `pickup_locked` when this one locked it.

    `message` ("<source>/<message id>") is the sender's message: the same message sent again (a
    retry after a lost answer) is the same try and is not counted twice."""
    limit = settings.OMS_PICKUP_CODE_MAX_ATTEMPTS
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment_id)
        if fo.pickup_locked_at is not None:  # locked meanwhile by a concurrent try
            return PickupLocked(fo.number, fo.pickup_failed_attempts)
        if (
            message
            and Event.objects.filter(
                stream=order.stream,
                type=FULFILLMENT_PICKUP_CODE_FAILED,
                payload__fulfillment=fo.number,
                payload__message=message,
            ).exists()
        ):
            return WrongPickupCode(attempts_left=limit - fo.pickup_failed_attempts)
        now = timezone.now()
        fo.pickup_failed_attempts += 1
        locked = fo.pickup_failed_attempts >= limit
        if locked:
            fo.pickup_locked_at = now
        fo.save(update_fields=["pickup_failed_attempts", "pickup_locked_at", "updated_at"])
        state = Locked(order=order, fo=fo)
        _event(
            state,
            FULFILLMENT_PICKUP_CODE_FAILED,
            actor,
            attempts=fo.pickup_failed_attempts,
            max_attempts=limit,
            locked=locked,
            message=message,
        )
        if locked:
            _event(state, FULFILLMENT_PICKUP_LOCKED, actor, attempts=fo.pickup_failed_attempts)
    if locked:
        return PickupLocked(fo.number, fo.pickup_failed_attempts)
    return WrongPickupCode(attempts_left=limit - fo.pickup_failed_attempts)


def unlock_pickup(*, fulfillment_id: int, actor: Actor, note: str = "") -> FulfillmentOrder:
    """A supervisor (a lead of the store, or ops in the admin: the caller checks who) checked
    the customer and unlocks the hand-over: the wrong-code count starts again. Recording
    `fulfillment.pickup_unlocked` resolves the exception case. Unlocking an unlocked one does
    nothing."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment_id)
        if fo.pickup_locked_at is None:
            return fo
        attempts = fo.pickup_failed_attempts
        fo.pickup_locked_at = None
        fo.pickup_failed_attempts = 0
        fo.save(update_fields=["pickup_failed_attempts", "pickup_locked_at", "updated_at"])
        _event(
            Locked(order=order, fo=fo),
            FULFILLMENT_PICKUP_UNLOCKED,
            actor,
            attempts=attempts,
            note=note[:300],
        )
    return fo


def consume_lines(
    fo: FulfillmentOrder,
    actor: Actor,
    quantities: dict[int, int] | None = None,
) -> None:
    """Stock leaves the node: consume each line's reservation for what went out."""
    for line in fo.lines.order_by("id"):
        sent = (quantities or {}).get(line.pk, line.quantity - line.short_quantity)
        if sent <= 0:
            continue
        consume(reservation_id=line.reservation_id, quantity=sent, actor=actor)
        FulfillmentOrderLine.objects.filter(pk=line.pk).update(shipped_quantity=sent)


def expire_pickup(*, fulfillment_id: int, actor: Actor) -> FulfillmentOrder | None:
    """Not collected by its deadline: stock goes back, the lines are cancelled. Idempotent."""
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment_id)
        if fo.status != FulfillmentStatus.READY_FOR_PICKUP:
            return None
        fo.expire(at=timezone.now())
        fo.save(update_fields=["status", "closed_at", "close_reason", "pickup_code", "updated_at"])
        release(
            reservation_ids=list(fo.lines.values_list("reservation_id", flat=True)),
            actor=actor,
            reason="pickup not collected in time",
        )
        line_ids = list(fo.lines.values_list("order_line_id", flat=True))
        cancelled = []
        for line in (
            OrderLine.objects.select_for_update(of=("self",)).filter(pk__in=line_ids).order_by("id")
        ):
            if line.status != LineStatus.CANCELLED:
                line.cancel()
                line.save(update_fields=["status", "updated_at"])
                cancelled.append(line.line_number)
        record_event(
            stream=order.stream,
            type=FULFILLMENT_EXPIRED,
            actor=actor,
            payload={"fulfillment": fo.number, "node": fo.node.code, "cancelled_lines": cancelled},
        )
        rollup_order(order, cancel_reason="pickup not collected in time", cancel_actor=actor)
    return fo


def schedule_payment_capture_if_due(order_id: int) -> None:
    """Payment is captured once everything has shipped or been picked up."""
    from fulfillment.tasks import capture_shipped_payment_task  # noqa: PLC0415 - task seam

    enqueue_on_commit(capture_shipped_payment_task, order_id)
