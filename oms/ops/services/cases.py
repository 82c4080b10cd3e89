"""Raising and working exception cases.

`raise_exception_case()` is the one way a case is opened. It runs in the caller's transaction
(or its own), locks the order when the case concerns one (order, fulfillment, or a message about
a fulfillment), keeps one open case per (kind, subject): raising again refreshes the open case
(details, summary, last_seen_at, occurrences) and records nothing. A new case is routed by the
active exception rule set and records `exception.raised` on the order's stream (or the case's
own stream for node and message subjects).
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
from oms.ops.events import (
    EXCEPTION_ASSIGNED,
    EXCEPTION_DISMISSED,
    EXCEPTION_PROGRESSED,
    EXCEPTION_RAISED,
    EXCEPTION_RESOLVED,
)
from oms.ops.exceptions import OpsErrorCode, OpsRefused
from oms.ops.locks import lock_case
from oms.ops.models import OPEN_CASE_STATUSES, CaseStatus, ExceptionCase, Queue, SubjectType
from oms.ops.rules import CaseFacts, Route, choose_route
from oms.ops.selectors import active_exception_rule_set
from orders.locks import lock_order

SYSTEM = Actor.system("exceptions")


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
    actor: Actor | None = None,
) -> ExceptionCase:
    """Open (or refresh) the case of `kind` about one subject; see the module docstring."""
    actor = actor or SYSTEM
    details = _json(details or {})
    subject_type, subject_id, label, order_id, node_code = _subject(
        order=order, fulfillment=fulfillment, message=message, node=node
    )
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
            channel_code=locked.channel.code if locked is not None else "",
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


HOLD_KINDS = {"fraud": "fraud_hold", "address": "address_invalid", "payment": "payment_failed"}


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
