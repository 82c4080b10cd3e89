"""Remedies the exception console applies to a case. Each one calls the owning service,
records `order.manual_touch` (remedy + user) on the order when there is one, and resolves the
case (or keeps it in progress when the remedy did not settle it). Refusals are DomainErrors.
"""

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from fulfillment.models import FulfillmentOrder, FulfillmentStatus, RoutingTrigger
from fulfillment.services.feedback import unlock_pickup
from fulfillment.services.orchestration import Outcome, orchestrate_order
from integrations.inbound import reprocess_message as reprocess_inbound_message
from oms.core.actors import Actor
from oms.events.services import record_event
from ops.exceptions import OpsErrorCode, OpsRefused
from ops.locks import lock_case
from ops.models import OPEN_CASE_STATUSES, ExceptionCase, SubjectType
from ops.remedy_rules import PARCEL_KINDS
from ops.services.cases import close_case, resolve_case
from orders.events import ORDER_MANUAL_TOUCH, ORDER_REFUND_REQUESTED, ORDER_RESHIP_REQUESTED
from orders.models import HoldStatus, LineStatus
from orders.services.cancellation import cancel_order_line
from orders.services.holds import release_hold

SETTLED = {Outcome.ROUTED, Outcome.NOTHING_TO_ROUTE, Outcome.CLOSED}
DEFAULT_PARCEL_POLICY = {"lost": "reship", "damaged": "refund"}


def _touch(case: ExceptionCase, actor: Actor, remedy: str, **extra: Any) -> None:
    if case.order_id is None:
        return
    record_event(
        stream=case.stream,
        type=ORDER_MANUAL_TOUCH,
        actor=actor,
        payload={"remedy": remedy, "case_id": case.pk, "user": actor.label, **extra},
    )


def _order_of(case: ExceptionCase) -> Any:
    if case.order_id is None:
        raise OpsRefused(OpsErrorCode.NO_ORDER, f"Case {case.pk} is not about an order.")
    return case.order


def reroute_case(*, case_id: int, user: AbstractBaseUser) -> ExceptionCase:
    """Route the order again (trigger `manual_reroute`); resolved when nothing is left
    unrouted, otherwise the case stays in progress with the outcome."""
    actor = Actor.for_user(user)
    with transaction.atomic():
        case = lock_case(case_id)
        order = _order_of(case)
        outcome = orchestrate_order(order_id=order.pk, trigger=RoutingTrigger.MANUAL_REROUTE)
        _touch(case, actor, "reroute", outcome=str(outcome))
        return close_case(
            case,
            actor=actor,
            remedy="reroute",
            note=f"Rerouted: {outcome}",
            resolve=outcome in SETTLED,
        )


def retry_integration(*, case_id: int, user: AbstractBaseUser) -> ExceptionCase:
    """Send a fulfillment order to its node again (release task on commit), or re-process the
    inbound message the case is about."""
    if _subject_type(case_id) == SubjectType.MESSAGE:
        return reprocess_message(case_id=case_id, user=user)
    from fulfillment.tasks import release_fulfillment_task  # noqa: PLC0415 - tasks import services

    actor = Actor.for_user(user)
    with transaction.atomic():
        case = lock_case(case_id)
        if case.subject_type != SubjectType.FULFILLMENT:
            raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, "Retry needs a fulfillment or message.")
        fo = FulfillmentOrder.objects.filter(pk=case.subject_id).first()
        if fo is None or fo.status != FulfillmentStatus.PENDING:
            raise OpsRefused(
                OpsErrorCode.NOT_APPLICABLE,
                f"Fulfillment {case.subject_label} is not waiting for release.",
            )
        transaction.on_commit(partial(release_fulfillment_task.delay, fo.pk))
        _touch(case, actor, "retry_integration", fulfillment=fo.number)
        return close_case(case, actor=actor, remedy="retry_integration", note="Release retried")


def reprocess_message(*, case_id: int, user: AbstractBaseUser) -> ExceptionCase:
    """Apply the case's inbound message again (integrations.inbound). It runs first, in its
    own transactions, so a refusal stays recorded on the message while the case stays open."""
    actor = Actor.for_user(user)
    subject = (
        ExceptionCase.objects.filter(pk=case_id)
        .values_list("subject_type", "subject_id", "status")
        .order_by()
        .first()
    )
    if subject is None or subject[0] != SubjectType.MESSAGE:
        raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, "The case is not about a message.")
    if subject[2] not in OPEN_CASE_STATUSES:
        raise OpsRefused(OpsErrorCode.CASE_NOT_OPEN, f"Case {case_id} is {subject[2]}.")
    message = reprocess_inbound_message(message_id=subject[1], actor=actor)
    with transaction.atomic():
        case = lock_case(case_id)
        _touch(case, actor, "reprocess_message", message=case.subject_label)
        return close_case(
            case,
            actor=actor,
            remedy="reprocess_message",
            note=f"Re-processed ({message.status})",
        )


def release_case_holds(*, case_id: int, user: AbstractBaseUser, note: str = "") -> ExceptionCase:
    """Release the hold the case is about (details.hold_id), else every active hold."""
    actor = Actor.for_user(user)
    with transaction.atomic():
        case = lock_case(case_id)
        order = _order_of(case)
        holds = order.holds.filter(status=HoldStatus.ACTIVE)
        if case.details.get("hold_id"):
            holds = holds.filter(pk=case.details["hold_id"])
        hold_ids = list(holds.values_list("pk", flat=True))
        if not hold_ids:
            raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, f"{order.number} has no active hold.")
        # Resolved by this remedy first: release_hold() would otherwise resolve it as the
        # system (condition cleared). Other holds' cases are resolved by release_hold().
        close_case(case, actor=actor, remedy="release_hold", note=note)
        for hold_id in hold_ids:
            release_hold(order_id=order.pk, hold_id=hold_id, actor=actor, note=note)
        _touch(case, actor, "release_hold", holds=hold_ids)
        return case


def cancel_case_lines(
    *, case_id: int, user: AbstractBaseUser, line_ids: list[int] | None = None, reason: str = ""
) -> ExceptionCase:
    """Cancel the given lines (default: the order's backordered and open lines)."""
    actor = Actor.for_user(user)
    with transaction.atomic():
        case = lock_case(case_id)
        order = _order_of(case)
        if line_ids is None:
            line_ids = list(
                order.lines.filter(status__in=[LineStatus.OPEN, LineStatus.BACKORDERED])
                .order_by("id")
                .values_list("pk", flat=True)
            )
        if not line_ids:
            raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, f"{order.number} has no line to cancel.")
        for line_id in line_ids:
            cancel_order_line(
                order_id=order.pk, line_id=line_id, actor=actor, reason=reason or case.kind
            )
        _touch(case, actor, "cancel_line", lines=line_ids)
        return close_case(case, actor=actor, remedy="cancel_line", note=reason)


def mark_parcel(*, case_id: int, user: AbstractBaseUser, outcome: str) -> ExceptionCase:
    """Record a parcel as `lost` or `damaged` on the case and ask the returns domain, per policy
    (settings.OMS_PARCEL_POLICY), for a reship or a refund."""
    if outcome not in DEFAULT_PARCEL_POLICY:
        raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, f"Unknown parcel outcome {outcome!r}.")
    policy = {**DEFAULT_PARCEL_POLICY, **getattr(settings, "OMS_PARCEL_POLICY", {})}[outcome]
    actor = Actor.for_user(user)
    with transaction.atomic():
        case = lock_case(case_id)
        _order_of(case)
        if case.kind not in PARCEL_KINDS[outcome]:
            raise OpsRefused(
                OpsErrorCode.NOT_APPLICABLE,
                f"Case {case.pk} is a {case.get_kind_display()} case, not about a parcel "
                f"that is {outcome}.",
            )
        if case.status not in OPEN_CASE_STATUSES:
            raise OpsRefused(OpsErrorCode.CASE_NOT_OPEN, f"Case {case.pk} is not open.")
        case.details = {**case.details, "parcel": outcome, "policy": policy}
        case.save(update_fields=["details", "updated_at"])
        record_event(
            stream=case.stream,
            type=ORDER_RESHIP_REQUESTED if policy == "reship" else ORDER_REFUND_REQUESTED,
            actor=actor,
            payload={"case_id": case.pk, "parcel": outcome, "subject": case.subject_label},
        )
        _touch(case, actor, f"mark_{outcome}", policy=policy)
        return close_case(case, actor=actor, remedy=f"mark_{outcome}", note=f"{outcome}: {policy}")


def unlock_pickup_case(*, case_id: int, user: AbstractBaseUser, note: str = "") -> ExceptionCase:
    """Unlock the hand-over a pickup_locked case is about (ops checked the customer). The
    fulfillment service records `fulfillment.pickup_unlocked`, whose handler resolves the case
    under the order and fulfillment locks (the project's lock order: no case lock first)."""
    case = ExceptionCase.objects.filter(pk=case_id).first()
    if case is None or case.kind != "pickup_locked" or case.subject_id is None:
        raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, "Unlock needs a pickup_locked case.")
    if case.status not in OPEN_CASE_STATUSES:
        raise OpsRefused(OpsErrorCode.CASE_NOT_OPEN, f"Case {case.pk} is not open.")
    unlock_pickup(fulfillment_id=case.subject_id, actor=Actor.for_user(user), note=note)
    case.refresh_from_db()
    if case.status in OPEN_CASE_STATUSES:  # it was unlocked already (at the store)
        return resolve_case(case_id=case.pk, user=user, note=note or "Hand-over already unlocked")
    return case


def _subject_type(case_id: int) -> str | None:
    return (
        ExceptionCase.objects.filter(pk=case_id)
        .values_list("subject_type", flat=True)
        .order_by()
        .first()
    )
