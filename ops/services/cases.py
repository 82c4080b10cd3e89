"""Raising and working exception cases.

`raise_exception_case()` is the one way a case is opened. It runs in the caller's transaction
(or its own), locks the order when the case concerns one (order, fulfillment, or a message about
a fulfillment), keeps one open case per (kind, subject): raising again refreshes the open case
(details, summary, last_seen_at, occurrences) and records nothing. A new case is routed by the
active exception rule set and records `exception.raised` on the order's stream (or the case's
own stream for node and message subjects).

When the condition a case is about clears, the system resolves it (`resolve_cleared_case()`,
remedy `condition_cleared`): at once when a hold is released (`resolve_cases_of_released_hold()`,
called by release_hold), otherwise by the reconcile pass of the detectors' beat run
(ops/services/reconcile.py).
"""

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from oms.core.actors import Actor
from oms.events.services import record_event
from ops.events import (
    EXCEPTION_ASSIGNED,
    EXCEPTION_DISMISSED,
    EXCEPTION_PROGRESSED,
    EXCEPTION_RAISED,
    EXCEPTION_RESOLVED,
)
from ops.exceptions import OpsErrorCode, OpsRefused
from ops.locks import lock_case
from ops.models import OPEN_CASE_STATUSES, CaseStatus, ExceptionCase, Queue, SubjectType
from ops.rules import CaseFacts, Route, choose_route
from ops.selectors import active_exception_rule_set
from orders.locks import lock_order
from orders.models import PaymentStatus

SYSTEM = Actor.system("exceptions")
# `resolution` of a case the system resolved because its condition cleared.
CONDITION_CLEARED = "condition_cleared"
# details.reason of an integration_failed case raised because a fulfillment order changed (a
# line cancelled) while its release was being sent: the node may hold work that no longer
# exists, which only a person can sort out with the node, so it is never closed automatically.
CHANGED_WHILE_RELEASING = "changed_while_releasing"


def _json(details: dict[str, Any]) -> dict[str, Any]:
    """Details as plain JSON (Decimals, datetimes → strings)."""
    return json.loads(json.dumps(details, cls=DjangoJSONEncoder))


def _subject(
    *, order: Any, fulfillment: Any, message: Any, node: Any
) -> tuple[str, int, str, int | None, str]:
    """(subject type, subject id, label, order id, node code) of the case."""
    if fulfillment is not None:
        return (
            SubjectType.FULFILLMENT,
            fulfillment.pk,
            fulfillment.number,
            fulfillment.order_id,
            fulfillment.node.code,
        )
    if message is not None:
        from fulfillment.models import FulfillmentOrder  # noqa: PLC0415

        fo = (
            FulfillmentOrder.objects.filter(number=message.subject).select_related("node").first()
            if message.subject
            else None
        )
        return (
            SubjectType.MESSAGE,
            message.pk,
            f"{message.source}/{message.message_id}"[:120],
            fo.order_id if fo else None,
            fo.node.code if fo else "",
        )
    if node is not None:
        return SubjectType.NODE, node.pk, node.code, None, node.code
    if order is not None:
        return SubjectType.ORDER, order.pk, order.number, order.pk, ""
    raise ValueError("an exception case needs a subject")


def route_case(facts: CaseFacts) -> tuple[Route, Queue]:
    rule_set = active_exception_rule_set()
    rules = (
        list(rule_set.rules.select_related("queue").order_by("position", "id")) if rule_set else []
    )
    route = choose_route(rules, facts, set_label=str(rule_set) if rule_set else "")
    queue = Queue.objects.filter(code=route.queue_code).first()
    if queue is None:
        queue, _ = Queue.objects.get_or_create(
            code=route.queue_code, defaults={"name": "Operations"}
        )
    return route, queue


def raise_exception_case(
    *,
    kind: str,
    summary: str,
    details: dict[str, Any] | None = None,
    order: Any = None,
    fulfillment: Any = None,
    message: Any = None,
    node: Any = None,
    rule_set: Any = None,
    channel: Any = None,
    actor: Actor | None = None,
) -> ExceptionCase:
    """Open (or refresh) the case of `kind` about one subject; see the module docstring."""
    actor = actor or SYSTEM
    details = _json(details or {})
    subject: tuple[str, Any, str, int | None, str]
    if rule_set is not None:
        subject = (SubjectType.RULE_SET, rule_set.pk, str(rule_set)[:120], None, "")
    elif channel is not None:
        subject = (SubjectType.CHANNEL, channel.pk, channel.code, None, "")
    else:
        subject = _subject(order=order, fulfillment=fulfillment, message=message, node=node)
    subject_type, subject_id, label, order_id, node_code = subject
    with transaction.atomic():
        locked = lock_order(order_id) if order_id is not None else None
        now = timezone.now()
        key = {"kind": kind, "subject_type": subject_type, "subject_id": subject_id}
        existing = (
            ExceptionCase.objects.select_for_update(of=("self",))
            .filter(status__in=OPEN_CASE_STATUSES, **key)
            .first()
        )
        if existing is not None:
            return _refresh(existing, summary, details, now)
        facts = CaseFacts(
            kind=kind,
            channel_code=(
                locked.channel.code
                if locked is not None
                else (channel.code if channel is not None else "")
            ),
            node_code=node_code or str(details.get("node", "")),
            order_value=locked.grand_total if locked is not None else None,
        )
        route, queue = route_case(facts)
        case = ExceptionCase(
            **key,
            subject_label=label,
            order=locked,
            summary=summary[:300],
            details=details,
            queue=queue,
            priority=route.priority,
            sla_due_at=now + timedelta(minutes=route.sla_minutes),
            rule_label=route.rule_label[:200],
            raised_at=now,
            last_seen_at=now,
        )
        try:
            with transaction.atomic():
                case.save(force_insert=True)
        except IntegrityError:
            # Raised concurrently for a subject without an order lock: the other one won.
            existing = ExceptionCase.objects.select_for_update(of=("self",)).get(
                status__in=OPEN_CASE_STATUSES, **key
            )
            return _refresh(existing, summary, details, now)
        record_event(
            stream=case.stream,
            type=EXCEPTION_RAISED,
            actor=actor,
            payload={**_payload(case), "summary": case.summary, "details": details},
            first_in_stream=locked is None,
        )
    return case


def _refresh(case: ExceptionCase, summary: str, details: dict[str, Any], now: Any) -> ExceptionCase:
    case.summary = summary[:300]
    case.details = {**case.details, **details}
    case.last_seen_at = now
    case.occurrences += 1
    case.save(update_fields=["summary", "details", "last_seen_at", "occurrences", "updated_at"])
    return case


def _transition(case: ExceptionCase, name: str, **kwargs: Any) -> None:
    try:
        getattr(case, name)(**kwargs)
    except TransitionNotAllowed:
        raise OpsRefused(
            OpsErrorCode.CASE_NOT_OPEN,
            f"Case {case.pk} is {case.get_status_display().lower()}; it cannot {name} now.",
            case=case.pk,
            status=case.status,
        ) from None


def _payload(case: ExceptionCase) -> dict[str, Any]:
    return {
        "case_id": case.pk,
        "kind": case.kind,
        "subject_type": case.subject_type,
        "subject": case.subject_label,
        "queue": case.queue.code,
        "priority": case.priority,
        "sla_due_at": case.sla_due_at.isoformat(),
        "status": case.status,
    }


def assign_case(
    *, case_id: int, assignee: AbstractBaseUser, user: AbstractBaseUser
) -> ExceptionCase:
    """Assign to a person (open → in progress; reassigning keeps it in progress)."""
    with transaction.atomic():
        case = lock_case(case_id)
        _transition(case, "assign", to=assignee)
        case.save(update_fields=["status", "assignee", "updated_at"])
        record_event(
            stream=case.stream,
            type=EXCEPTION_ASSIGNED,
            actor=Actor.for_user(user),
            payload={**_payload(case), "assignee": assignee.get_username()},
        )
    return case


def close_case(
    case: ExceptionCase, *, actor: Actor, remedy: str, note: str = "", resolve: bool = True
) -> ExceptionCase:
    """After a remedy (the caller holds the case lock): resolve it, or keep it in progress."""
    if resolve:
        _transition(case, "resolve", at=timezone.now(), resolution=remedy, note=note)
        case.save(
            update_fields=["status", "resolved_at", "resolution", "resolution_note", "updated_at"]
        )
        event_type = EXCEPTION_RESOLVED
    else:
        if not case.is_open:
            raise OpsRefused(
                OpsErrorCode.CASE_NOT_OPEN,
                f"Case {case.pk} is {case.get_status_display().lower()}.",
                case=case.pk,
            )
        if case.status == CaseStatus.OPEN:
            _transition(case, "start")
        case.resolution_note = note
        case.save(update_fields=["status", "resolution_note", "updated_at"])
        event_type = EXCEPTION_PROGRESSED
    record_event(
        stream=case.stream,
        type=event_type,
        actor=actor,
        payload={**_payload(case), "remedy": remedy, "note": note},
    )
    return case


def resolve_case(*, case_id: int, user: AbstractBaseUser, note: str = "") -> ExceptionCase:
    with transaction.atomic():
        case = lock_case(case_id)
        return close_case(case, actor=Actor.for_user(user), remedy="resolved", note=note)


def dismiss_case(*, case_id: int, user: AbstractBaseUser, note: str = "") -> ExceptionCase:
    with transaction.atomic():
        case = lock_case(case_id)
        _transition(case, "dismiss", at=timezone.now(), note=note)
        case.save(
            update_fields=["status", "resolved_at", "resolution", "resolution_note", "updated_at"]
        )
        record_event(
            stream=case.stream,
            type=EXCEPTION_DISMISSED,
            actor=Actor.for_user(user),
            payload={**_payload(case), "note": note},
        )
    return case


def resolve_cleared_case(case: ExceptionCase, *, reason: str) -> ExceptionCase:
    """The condition the case is about has cleared: resolve it as the system, remedy
    `condition_cleared`, with `reason` as the note. The caller holds the case lock (and the
    order's, when the case has an order). A case a person is working on (in progress) is
    resolved too; the note says whose it was."""
    note = reason
    if case.status == CaseStatus.IN_PROGRESS:
        with_whom = f" with {case.assignee.get_username()}" if case.assignee is not None else ""
        note = f"{reason} (closed automatically while in progress{with_whom})"
    return close_case(case, actor=SYSTEM, remedy=CONDITION_CLEARED, note=note)


HOLD_KINDS = {"fraud": "fraud_hold", "address": "address_invalid", "payment": "payment_failed"}


def hold_release_note(hold: Any) -> str:
    """The resolution note of a hold's case: "Hold released by olga: customer verified"."""
    by = f" by {hold.released_by}" if hold.released_by else ""
    why = f": {hold.release_note}" if hold.release_note else ""
    return f"Hold released{by}{why}"


def payment_still_failed(case: ExceptionCase, order: Any) -> bool:
    """A payment case that (also) records a refused capture stays open while the payment is
    failed, whatever happens to a payment hold merged into it."""
    refused_capture = "code" in case.details or not case.details.get("hold_id")
    return (
        case.kind == "payment_failed"
        and refused_capture
        and order.payment_status == PaymentStatus.FAILED
    )


def resolve_cases_of_released_hold(*, order: Any, hold: Any) -> list[ExceptionCase]:
    """release_hold(): resolve the open case raised for this hold (details.hold_id), in the
    caller's transaction; the caller holds the order lock."""
    kind = HOLD_KINDS.get(hold.kind)
    if kind is None:
        return []
    cases = (
        ExceptionCase.objects.select_for_update(of=("self",))
        .select_related("queue", "assignee")
        .filter(
            kind=kind,
            subject_type=SubjectType.ORDER,
            subject_id=order.pk,
            status__in=OPEN_CASE_STATUSES,
            details__hold_id=hold.pk,
        )
        .order_by("id")
    )
    resolved = []
    for case in cases:
        case.order = order
        if not payment_still_failed(case, order):
            resolved.append(resolve_cleared_case(case, reason=hold_release_note(hold)))
    return resolved


def raise_exception_case_for_hold(*, order: Any, hold: Any, actor: Actor) -> ExceptionCase | None:
    """A fraud, address or payment hold is work for a person; a manual hold is not."""
    kind = HOLD_KINDS.get(hold.kind)
    if kind is None:
        return None
    return raise_exception_case(
        kind=kind,
        order=order,
        summary=hold.reason or f"{hold.get_kind_display()} hold",
        details={"hold_id": hold.pk, "hold_kind": hold.kind},
        actor=actor,
    )


def raise_oversell_case(*, node: Any, oversells: Any, actor: Actor) -> ExceptionCase | None:
    """One open oversell case per node, listing its oversold SKUs (refreshed by later feeds)."""
    if not oversells:
        return None
    notices = [notice.as_dict() for notice in oversells]
    return raise_exception_case(
        kind="oversell",
        node=node,
        summary=f"{node.code}: {len(notices)} SKU(s) below reserved",
        details={"oversells": notices},
        actor=actor,
    )


def cycle_count_summary(node: Any, awaiting: Any) -> str:
    skus = ", ".join(a.sku for a in awaiting[:5]) + (" …" if len(awaiting) > 5 else "")
    return f"{node.code}: count {skus} (short pick)"


def raise_cycle_count_case(*, node: Any, awaiting: Any, actor: Actor) -> ExceptionCase | None:
    """One open cycle_count case per node, listing every SKU that came up short there and has
    not been counted since (`details.skus`, re-derived from the ledger each time, so it always
    lists all of them). Refreshing it counts another occurrence."""
    if not awaiting:
        return None
    return raise_exception_case(
        kind="cycle_count",
        node=node,
        summary=cycle_count_summary(node, awaiting),
        details={"skus": [a.as_dict() for a in awaiting]},
        actor=actor,
    )


def settle_cycle_count_case(*, node: Any, awaiting: Any, reason: str) -> ExceptionCase | None:
    """A count arrived at the node (the caller holds the node lock): resolve its open
    cycle_count case when no SKU awaits a count any more, else narrow the list to those still
    waiting (no new occurrence: nothing new came up short). Returns the open case, if any."""
    case_id = (
        ExceptionCase.objects.filter(
            kind="cycle_count",
            subject_type=SubjectType.NODE,
            subject_id=node.pk,
            status__in=OPEN_CASE_STATUSES,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if case_id is None:
        return None
    case = lock_case(case_id)
    if not awaiting:
        return resolve_cleared_case(case, reason=reason)
    skus = [a.as_dict() for a in awaiting]
    if case.details.get("skus") != skus:
        case.details = {**case.details, "skus": skus}
        case.summary = cycle_count_summary(node, awaiting)[:300]
        case.save(update_fields=["details", "summary", "updated_at"])
    return case


def resolve_pickup_locked_case(*, fulfillment: Any, actor: Actor) -> ExceptionCase | None:
    """The hand-over was unlocked (the caller holds the order and fulfillment locks): resolve
    the fulfillment order's open pickup_locked case, if there is one."""
    case_id = (
        ExceptionCase.objects.filter(
            kind="pickup_locked",
            subject_type=SubjectType.FULFILLMENT,
            subject_id=fulfillment.pk,
            status__in=OPEN_CASE_STATUSES,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if case_id is None:
        return None
    return resolve_cleared_case(lock_case(case_id), reason=f"Hand-over unlocked by {actor.label}")
