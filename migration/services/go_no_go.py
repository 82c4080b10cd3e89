"""Go/no-go during a cutover: each channel with an active cutover plan is judged against the
thresholds of the active exception rule set (versioned and approved like every rule; defaults
in ops/rules.py), and one `cutover_no_go` case per channel is opened while it breaches them and
resolved by the system once it no longer does.

The checks, per channel:
- `agreement`: in `shadow` or `canary`, the shadow agreement over the last
  `cutover_agreement_days` days (orders placed in the window, both decisions in, cancelled
  legacy decisions left out: the same diff as the shadow diff page) is below
  `cutover_min_agreement_percent`. Judged only once `cutover_min_compared` orders were compared,
  so the first few orders of a shadow week raise nothing.
- `dead_handoffs`: more legacy handoffs of the channel's orders are dead (retries exhausted)
  than `cutover_max_dead_handoffs`. Each dead handoff also has its own integration_failed case
  about the order; this one says the channel as a whole should not move forward.
- `webhook_errors` / `connector_errors`: more than `cutover_max_webhook_error_percent` of
  oms's webhook attempts, or `cutover_max_connector_error_percent` of its calls to nodes and
  the nodes' messages, about the channel's orders failed (migration/kpis.py, the dashboard's
  parity rows), judged once `cutover_min_calls` were made.
- `inventory_variance`: the latest inventory reconciliation found more than
  `cutover_max_inventory_variance_percent` of the node×SKU pairs it compared differing (the
  stock is shared, so every channel in cutover is judged on it).

Raising again refreshes the open case (its details list the breaches now). A channel that
passes every check has its open case resolved (`condition_cleared`, the figures in the note);
so does a channel whose plan was retired with no active plan left. Runs from the beat
(`migration.tasks.check_cutover_thresholds_task`, every 5 minutes) and is idempotent.

Cases are in ops, below migration: they are raised and resolved through ops's services.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from migration.kpis import (
    ErrorRate,
    connector_error_rate,
    latest_inventory_variance,
    webhook_error_rate,
)
from migration.models import CutoverMode, CutoverPlan, HandoffStatus, LegacyHandoff
from migration.selectors import order_diffs
from oms.core.actors import Actor
from oms.core.models import RuleSetStatus
from ops.locks import lock_case
from ops.models import OPEN_CASE_STATUSES, ExceptionCase, ExceptionKind, SubjectType
from ops.selectors import current_thresholds
from ops.services.cases import raise_exception_case, resolve_cleared_case
from orders.models import Channel

SYSTEM = Actor.system("cutover_go_no_go")
AGREEMENT_MODES = (CutoverMode.SHADOW, CutoverMode.CANARY)


@dataclass
class ChannelVerdict:
    channel: str
    mode: str
    compared: int = 0
    agreed: int = 0
    agreement: float | None = None  # percent; None when nothing was compared
    dead_handoffs: int = 0
    webhook_errors: ErrorRate = ErrorRate(0, 0)
    connector_errors: ErrorRate = ErrorRate(0, 0)
    inventory_variance: float | None = None  # percent of pairs; None: no reconciliation
    breaches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def go(self) -> bool:
        return not self.breaches

    def figures(self) -> str:
        agreement = (
            f"agreement {self.agreement:.1f}% over {self.compared} orders"
            if self.agreement is not None
            else "no order compared"
        )
        return (
            f"{agreement}, {self.dead_handoffs} dead handoffs, webhook errors "
            f"{_percent(self.webhook_errors)}, connector errors {_percent(self.connector_errors)}"
        )


def _percent(rate: ErrorRate) -> str:
    return f"{rate.rate:.1f}% of {rate.calls}" if rate.rate is not None else "none made"


@dataclass
class GoNoGoResult:
    verdicts: list[ChannelVerdict] = field(default_factory=list)
    cases_raised: list[int] = field(default_factory=list)
    cases_resolved: list[int] = field(default_factory=list)


def judge_channel(
    channel: Channel, mode: str, thresholds: dict[str, Any], now: datetime
) -> ChannelVerdict:
    verdict = ChannelVerdict(channel=channel.code, mode=mode)
    if mode in AGREEMENT_MODES:
        since = now - timedelta(days=int(thresholds["cutover_agreement_days"]))
        diffs = order_diffs(channel_code=channel.code, since=since, until=now)
        verdict.compared = len(diffs)
        verdict.agreed = sum(d.agrees for d in diffs)
        if diffs:
            verdict.agreement = round(100 * verdict.agreed / verdict.compared, 1)
        minimum = int(thresholds["cutover_min_agreement_percent"])
        enough = verdict.compared >= int(thresholds["cutover_min_compared"])
        if enough and verdict.agreement is not None and verdict.agreement < minimum:
            verdict.breaches.append(
                {
                    "check": "agreement",
                    "value": verdict.agreement,
                    "threshold": minimum,
                    "compared": verdict.compared,
                    "days": int(thresholds["cutover_agreement_days"]),
                }
            )
    verdict.dead_handoffs = LegacyHandoff.objects.filter(
        order__channel=channel, status=HandoffStatus.DEAD
    ).count()
    allowed = int(thresholds["cutover_max_dead_handoffs"])
    if verdict.dead_handoffs > allowed:
        verdict.breaches.append(
            {"check": "dead_handoffs", "value": verdict.dead_handoffs, "threshold": allowed}
        )
    _judge_rates(verdict, channel, thresholds)
    return verdict


def _judge_rates(verdict: ChannelVerdict, channel: Channel, thresholds: dict[str, Any]) -> None:
    enough = int(thresholds["cutover_min_calls"])
    verdict.webhook_errors = webhook_error_rate(channel.pk)
    verdict.connector_errors = connector_error_rate(channel.pk)
    for check, rate, key in (
        ("webhook_errors", verdict.webhook_errors, "cutover_max_webhook_error_percent"),
        ("connector_errors", verdict.connector_errors, "cutover_max_connector_error_percent"),
    ):
        allowed = int(thresholds[key])
        if rate.calls >= enough and rate.rate is not None and rate.rate > allowed:
            verdict.breaches.append(
                {"check": check, "value": rate.rate, "threshold": allowed, "calls": rate.calls}
            )
    recon = latest_inventory_variance()
    if recon is not None and recon.pairs:
        verdict.inventory_variance = round(100 * recon.variance_pairs / recon.pairs, 1)
        allowed = int(thresholds["cutover_max_inventory_variance_percent"])
        if verdict.inventory_variance > allowed:
            verdict.breaches.append(
                {
                    "check": "inventory_variance",
                    "value": verdict.inventory_variance,
                    "threshold": allowed,
                    "pairs": recon.pairs,
                    "reconciliation": recon.pk,
                }
            )


def _summary(verdict: ChannelVerdict) -> str:
    parts = []
    for breach in verdict.breaches:
        if breach["check"] == "agreement":
            parts.append(
                f"shadow agreement {breach['value']:.1f}% is below {breach['threshold']}% "
                f"({breach['compared']} orders, last {breach['days']} days)"
            )
        elif breach["check"] in ("webhook_errors", "connector_errors"):
            what = "webhook attempts" if breach["check"] == "webhook_errors" else "connector calls"
            parts.append(
                f"{breach['value']:.1f}% of {breach['calls']} {what} failed "
                f"(at most {breach['threshold']}%)"
            )
        elif breach["check"] == "inventory_variance":
            parts.append(
                f"{breach['value']:.1f}% of {breach['pairs']} node×SKU pairs differ in the "
                f"latest inventory reconciliation (at most {breach['threshold']}%)"
            )
        else:
            parts.append(
                f"{breach['value']} dead legacy handoffs (at most {breach['threshold']} allowed)"
            )
    return f"{verdict.channel} ({verdict.mode}): no-go: " + "; ".join(parts)


def check_cutover_thresholds(*, now: datetime | None = None, actor: Actor = SYSTEM) -> GoNoGoResult:
    """Judge every channel with an active plan; open or refresh the no-go case of each that
    breaches a threshold and resolve the open case of each that no longer does."""
    now = now or timezone.now()
    thresholds = current_thresholds()
    result = GoNoGoResult()
    plans = CutoverPlan.objects.filter(status=RuleSetStatus.ACTIVE).select_related("channel")
    judged: dict[int, ChannelVerdict] = {}
    for plan in plans.order_by("key"):
        verdict = judge_channel(plan.channel, plan.mode, thresholds, now)
        judged[plan.channel_id] = verdict
        result.verdicts.append(verdict)
        if verdict.go:
            continue
        case = raise_exception_case(
            kind=ExceptionKind.CUTOVER_NO_GO,
            channel=plan.channel,
            summary=_summary(verdict),
            details={
                "channel": verdict.channel,
                "mode": verdict.mode,
                "plan_version": plan.version,
                "breaches": verdict.breaches,
            },
            actor=actor,
        )
        result.cases_raised.append(case.pk)
    open_cases = ExceptionCase.objects.filter(
        kind=ExceptionKind.CUTOVER_NO_GO,
        subject_type=SubjectType.CHANNEL,
        status__in=OPEN_CASE_STATUSES,
    ).order_by("id")
    for case_id, channel_id in open_cases.values_list("pk", "subject_id"):
        now_judged = judged.get(channel_id)
        if now_judged is not None and not now_judged.go:
            continue
        reason = (
            f"{now_judged.channel} within the go/no-go thresholds: {now_judged.figures()}"
            if now_judged is not None
            else "The channel has no active cutover plan any more"
        )
        with transaction.atomic():
            case = lock_case(case_id)
            if case.is_open:
                resolve_cleared_case(case, reason=reason)
                result.cases_resolved.append(case.pk)
    return result
