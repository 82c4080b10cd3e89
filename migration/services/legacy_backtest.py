"""`backtest_rules --ruleset N --from D --to D --against legacy`: replay a candidate routing rule
set over the mirrored legacy orders of a period and compare its decisions with what the legacy
system actually decided (issue 15, "shadow diff").

The orders are those with a legacy decision (mirrored through the legacy feed or a mapping
import; cancelled legacy decisions left out), placed in the period, of the candidate's channel
(every channel for a default set), the latest `MAX_ORDERS`. Each is planned with the candidate
exactly as the shadow run plans (`fulfillment.services.dry_plan.plan_without_reserving`:
today's stock and load, nothing reserved or written) and compared like the shadow diff
(`migration.selectors.compare_decisions`: agreement = the same set of nodes). Next to it, for the
orders that have one, the shadow decision recorded at the time (the rule set active then), so
the candidate's agreement can be read against the one the cutover measured. Nothing is stored.
"""

from dataclasses import dataclass, field
from datetime import datetime

from fulfillment.models import RoutingRuleSet
from fulfillment.services.backtest import MAX_ORDERS
from fulfillment.services.dry_plan import plan_without_reserving
from migration.models import ShadowDecision
from migration.selectors import Estimator, OrderDiff, SystemFigures, compare_decisions
from migration.services.shadow import node_miles_to
from oms.core.errors import FieldError, InvalidInput, NotFound
from orders.models import Order

DIFFERENCES_SHOWN = 20


@dataclass
class LegacyBacktest:
    rule_set: str
    channel: str  # "" = every channel
    period_from: datetime
    period_to: datetime
    diffs: list[OrderDiff] = field(default_factory=list)
    recorded: list[OrderDiff] = field(default_factory=list)  # the stored shadow decisions

    @staticmethod
    def _agreement(diffs: list[OrderDiff]) -> tuple[int, int, float | None]:
        agreed = sum(d.agrees for d in diffs)
        return agreed, len(diffs), (round(100 * agreed / len(diffs), 1) if diffs else None)

    @property
    def agreement(self) -> tuple[int, int, float | None]:
        return self._agreement(self.diffs)

    @property
    def recorded_agreement(self) -> tuple[int, int, float | None]:
        return self._agreement(self.recorded)

    def figures(self) -> tuple[dict[str, object], dict[str, object]]:
        candidate, legacy = SystemFigures(), SystemFigures()
        for diff in self.diffs:
            candidate.add(diff.oms, diff.day)
            legacy.add(diff.legacy, diff.day)
        return candidate.as_dict(), legacy.as_dict()

    def lines(self) -> list[str]:
        agreed, compared, pct = self.agreement
        out = [
            f"Backtest of {self.rule_set} against the legacy decisions, "
            f"{self.channel or 'every channel'}, {self.period_from:%Y-%m-%d} to "
            f"{self.period_to:%Y-%m-%d}: {compared} mirrored orders",
            f"{'':28}{'candidate':>14}{'legacy':>14}",
            f"{'agreement with legacy':28}{_pct(pct):>14}{'':>14}",
        ]
        candidate, legacy = self.figures()
        for key, label in (
            ("split_rate", "split rate"),
            ("backorder_rate", "backorder rate"),
            ("avg_miles", "average miles"),
            ("avg_cost", "average est. cost"),
            ("avg_promise_days", "average days to promise"),
        ):
            unit = "%" if key.endswith("_rate") else ""
            out.append(f"{label:28}{_show(candidate[key], unit):>14}{_show(legacy[key], unit):>14}")
        out.append(f"candidate agreed on {agreed} of {compared}")
        r_agreed, r_compared, r_pct = self.recorded_agreement
        if r_compared:
            out.append(
                f"recorded shadow decisions (the rule set active then): {r_agreed} of "
                f"{r_compared} agreed ({_pct(r_pct)})"
            )
        differing = [d for d in self.diffs if not d.agrees]
        if differing:
            out.append(
                f"differences ({min(len(differing), DIFFERENCES_SHOWN)} of {len(differing)}):"
            )
            out += [
                f"  {d.order}: candidate {'+'.join(d.oms.nodes) or '-'}, legacy "
                f"{'+'.join(d.legacy.nodes) or '-'}: {d.reason}"
                for d in differing[:DIFFERENCES_SHOWN]
            ]
        return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _show(value: object, unit: str) -> str:
    return "-" if value is None else f"{value}{unit}"


def backtest_against_legacy(
    *, rule_set_id: int, period_from: datetime, period_to: datetime
) -> LegacyBacktest:
    if period_from >= period_to:
        raise InvalidInput([FieldError("invalid_period", "'from' must be before 'to'.", "from")])
    candidate = RoutingRuleSet.objects.select_related("channel").filter(pk=rule_set_id).first()
    if candidate is None:
        raise NotFound(f"No routing rule set {rule_set_id}.", code="rule_set_not_found")
    orders = Order.objects.filter(
        legacy_decision__isnull=False,
        legacy_decision__is_cancelled=False,
        placed_at__gte=period_from,
        placed_at__lt=period_to,
    ).exclude(lines__cancelled_quantity__gt=0)
    if candidate.channel_id is not None:
        orders = orders.filter(channel_id=candidate.channel_id)
    latest = list(
        orders.select_related("channel", "legacy_decision")
        .prefetch_related("lines")
        .order_by("-placed_at", "-id")[:MAX_ORDERS]
    )
    shadows = {
        s.order_id: s
        for s in ShadowDecision.objects.filter(order__in=latest).select_related("rule_set")
    }
    estimator = Estimator()
    result = LegacyBacktest(
        rule_set=str(candidate),
        channel=candidate.channel.code if candidate.channel else "",
        period_from=period_from,
        period_to=period_to,
    )
    for order in reversed(latest):
        ordered = sum(line.quantity for line in order.lines.all())
        dry = plan_without_reserving(order, rule_set=candidate)
        skus = {line.pk: line.sku for line in order.lines.all()}
        planned = ShadowDecision(  # unsaved: the candidate's decision, as the shadow stores one
            order=order,
            rule_set=candidate,
            outcome=dry.plan.outcome,
            allocations=[
                {"node": a.node_code, "sku": skus[a.line_id], "quantity": a.quantity}
                for a in dry.plan.assignments
            ],
            plan=dry.plan.to_stored_dict(),
            node_miles=node_miles_to({a.node_code for a in dry.plan.assignments}, dry.destination),
        )
        result.diffs.append(
            compare_decisions(order, planned, order.legacy_decision, ordered, estimator)
        )
        if order.pk in shadows:
            result.recorded.append(
                compare_decisions(
                    order, shadows[order.pk], order.legacy_decision, ordered, estimator
                )
            )
    return result


def legacy_backtest_lines(
    rule_set_id: int, period_from: datetime, period_to: datetime
) -> list[str]:
    """The runner of `backtest_rules --against legacy` (fulfillment/legacy_backtest.py)."""
    return backtest_against_legacy(
        rule_set_id=rule_set_id, period_from=period_from, period_to=period_to
    ).lines()
