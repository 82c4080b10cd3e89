"""Cutover plans per channel: propose, approve (maker-checker), reject; and who owns an order.

A plan is versioned data (`CutoverPlan`, a VersionedRuleSet) that goes through the same
approval flow as routing rule sets (oms/core/approvals.py): the approver is neither the
author nor the submitter, approving retires the channel's active plan in the same transaction,
and each step is an event on the stream `cutover:<channel code>`.

Approving a plan whose mode is `legacy` is the rollback switch: after commit, every oms order of
the channel that no node has yet is handed back (fulfillment/services/handback.py) and queued
for the legacy system (migration/services/handoff.py). Moving forward is the same action with
another mode.
"""

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction

from migration.events import (
    CUTOVER_PLAN_APPROVED,
    CUTOVER_PLAN_CREATED,
    CUTOVER_PLAN_REJECTED,
    CUTOVER_PLAN_RETIRED,
    CUTOVER_PLAN_SUBMITTED,
)
from migration.exceptions import CutoverErrorCode, CutoverRefused
from migration.models import CutoverMode, CutoverPlan
from migration.tasks import hand_back_channel_task
from oms.core.approvals import (
    ApprovalFlow,
    approve_version,
    check_approvable,
    reject_version,
    submit_version,
)
from oms.core.errors import NotFound
from oms.core.transactions import enqueue_on_commit
from oms.events.services import record_event
from orders.models import Channel
from orders.ownership import OrderOwner, OwnershipQuery
from orders.services.channels import set_channel_cutover

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NARROWING_KEYS = ("regions", "postal_prefixes", "stores", "delivery_methods")
BUCKETS = 10_000  # share resolution: 0.01 %


def _payload(plan: CutoverPlan) -> dict[str, Any]:
    return {
        "plan_id": plan.pk,
        "channel": plan.key,
        "version": plan.version,
        "mode": plan.mode,
        "share_percent": str(plan.share_percent),
        "narrowing": plan.narrowing,
        "status": plan.status,
    }


FLOW = ApprovalFlow(
    submitted=CUTOVER_PLAN_SUBMITTED,
    approved=CUTOVER_PLAN_APPROVED,
    rejected=CUTOVER_PLAN_REJECTED,
    retired=CUTOVER_PLAN_RETIRED,
    not_draft=CutoverErrorCode.NOT_DRAFT,
    not_pending=CutoverErrorCode.NOT_PENDING,
    self_approval=CutoverErrorCode.SELF_APPROVAL,
    refuse=CutoverRefused,
    payload=_payload,
    system_label="cutover",
)


def _share(mode: str, share: Decimal | str | int | None) -> Decimal:
    if mode == CutoverMode.OMS:
        return Decimal("100")
    if mode != CutoverMode.CANARY:
        return Decimal("0")
    try:
        value = Decimal(str(share if share is not None else "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise CutoverRefused(CutoverErrorCode.BAD_SHARE, "A canary needs --share 0-100.") from None
    if not Decimal("0") <= value <= Decimal("100"):
        raise CutoverRefused(CutoverErrorCode.BAD_SHARE, f"Share {value} is not within 0-100.")
    return value


def _narrowing(mode: str, narrowing: dict[str, Any] | None) -> dict[str, list[str]]:
    if not narrowing:
        return {}
    if mode != CutoverMode.CANARY:
        raise CutoverRefused(CutoverErrorCode.BAD_NARROWING, "Only a canary can be narrowed.")
    unknown = sorted(set(narrowing) - set(NARROWING_KEYS))
    if unknown:
        raise CutoverRefused(
            CutoverErrorCode.BAD_NARROWING,
            f"Unknown narrowing {', '.join(unknown)} (use {', '.join(NARROWING_KEYS)}).",
        )
    cleaned: dict[str, list[str]] = {}
    for key in NARROWING_KEYS:
        values = narrowing.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise CutoverRefused(CutoverErrorCode.BAD_NARROWING, f"{key} must list strings.")
        if values:
            upper = key in ("regions", "postal_prefixes")
            cleaned[key] = sorted({v.strip().upper() if upper else v.strip() for v in values})
    return cleaned


def propose_plan(
    *,
    channel_code: str,
    mode: str,
    author: "User | None",
    share_percent: Decimal | str | int | None = None,
    narrowing: dict[str, Any] | None = None,
    description: str = "",
) -> CutoverPlan:
    """Write the next version of the channel's plan and submit it for approval (two events:
    `cutover.plan_created`, `cutover.plan_submitted`)."""
    if mode not in CutoverMode.values:
        raise CutoverRefused("bad_mode", f"Mode must be one of {', '.join(CutoverMode.values)}.")
    channel = Channel.objects.filter(code=channel_code).first()
    if channel is None:
        raise NotFound(f"No channel {channel_code!r}.", code="channel_not_found")
    share = _share(mode, share_percent)
    cleaned = _narrowing(mode, narrowing)
    with transaction.atomic():
        latest = (
            CutoverPlan.objects.select_for_update(of=("self",))
            .filter(key=channel.code)
            .order_by("-version")
            .first()
        )
        plan = CutoverPlan(
            key=channel.code,
            channel=channel,
            version=(latest.version + 1) if latest else 1,
            name=f"{channel.code}: {mode}" + (f" {share}%" if mode == CutoverMode.CANARY else ""),
            description=description,
            mode=mode,
            share_percent=share,
            narrowing=cleaned,
            created_by=author,
        )
        plan.save(force_insert=True)
        record_event(
            stream=plan.stream,
            type=CUTOVER_PLAN_CREATED,
            actor=FLOW.actor(author),
            payload=_payload(plan),
        )
        submit_version(plan, user=author, flow=FLOW)
    return plan


def _lock_plan(plan_id: int) -> CutoverPlan:
    plan = (
        CutoverPlan.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise NotFound(f"No cutover plan {plan_id}.", code="cutover_plan_not_found")
    return plan


@dataclass(frozen=True)
class Approved:
    plan: CutoverPlan
    previous_mode: str  # the mode before (legacy when the channel had no plan: oms owned all)


def approve_plan(*, plan_id: int, approver: "User | None", note: str = "") -> Approved:
    """Activate a pending plan and retire the channel's active one. A plan to `legacy` from a
    mode where oms owned orders schedules the hand-back of the channel's unreleased oms orders
    on commit (`hand_back_channel_task`; idempotent, and re-run by the command and the admin)."""
    with transaction.atomic():
        plan = _lock_plan(plan_id)
        check_approvable(plan, approver=approver, flow=FLOW)
        current = (
            CutoverPlan.objects.select_for_update(of=("self",))
            .filter(status="active", channel_id=plan.channel_id)
            .first()
        )
        previous = current.mode if current is not None else CutoverMode.OMS
        approve_version(plan, approver=approver, note=note, current=current, flow=FLOW)
        set_channel_cutover(
            channel_id=plan.channel_id,
            mode=plan.mode,
            share=plan.share_percent,
            narrowing=plan.narrowing,
        )
        if plan.mode == CutoverMode.LEGACY:
            enqueue_on_commit(hand_back_channel_task, plan.channel_id)
    return Approved(plan=plan, previous_mode=previous)


def reject_plan(*, plan_id: int, approver: "User | None", note: str) -> CutoverPlan:
    with transaction.atomic():
        plan = _lock_plan(plan_id)
        reject_version(plan, approver=approver, note=note, flow=FLOW)
    return plan


# --- who owns an order (the resolver registered in orders/ownership.py) ---------------------


def canary_bucket(channel_code: str, external_id: str) -> int:
    """0..9999 from SHA-256 of the channel and the channel's order id: the same order (a retry,
    a resend) always lands in the same bucket, and buckets are uniform."""
    digest = hashlib.sha256(f"{channel_code}\x00{external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_canary(plan_share: Decimal, narrowing: dict[str, list[str]], query: OwnershipQuery) -> bool:
    if not _matches(narrowing, query):
        return False
    return canary_bucket(query.channel_code, query.external_id) < int(plan_share * 100)


def _matches(narrowing: dict[str, list[str]], query: OwnershipQuery) -> bool:
    regions = narrowing.get("regions")
    if regions and query.region.strip().upper() not in regions:
        return False
    prefixes = narrowing.get("postal_prefixes")
    postal = query.postal_code.strip().upper()
    if prefixes and not any(postal.startswith(p) for p in prefixes):
        return False
    stores = narrowing.get("stores")
    if stores and query.pickup_node_code not in stores:
        return False
    methods = narrowing.get("delivery_methods")
    return not (methods and query.delivery_method not in methods)


def owner_for(query: OwnershipQuery) -> str:
    """From the channel's approved plan as the query carries it (no query of its own). Without
    a plan oms owns native orders. A mirrored order is the legacy system's (it already acts on
    it); in shadow mode oms plans it alongside."""
    mode = query.cutover_mode or CutoverMode.OMS
    if query.legacy_mirror:
        return OrderOwner.SHADOW if mode == CutoverMode.SHADOW else OrderOwner.LEGACY
    if mode == CutoverMode.OMS:
        return OrderOwner.OMS
    if mode == CutoverMode.SHADOW:
        return OrderOwner.SHADOW
    if mode == CutoverMode.CANARY:
        owned = in_canary(query.cutover_share, dict(query.cutover_narrowing), query)
        return OrderOwner.OMS if owned else OrderOwner.LEGACY
    return OrderOwner.LEGACY
