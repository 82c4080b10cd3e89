"""Reads of the cutover, shared by the API, the admin, the command and the dashboard.

- `cutover_status()`: a channel's current mode and share, and a plan waiting for approval.
- `order_diff()`: one shadow order, oms's decision next to the legacy system's, and why they
  differ.
- `shadow_summary()`: per day and channel, agreement and the figures of both systems.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from fulfillment.estimates import Estimate, estimate_shipments
from fulfillment.rules import RuleConfig
from inventory.models import Node
from migration.models import CutoverMode, CutoverPlan, LegacyDecision, ShadowDecision
from oms.core.errors import NotFound
from orders.models import Channel, Order


@dataclass(frozen=True)
class CutoverStatus:
    channel: str
    mode: str
    share_percent: Decimal
    narrowing: dict[str, list[str]]
    version: int | None  # None: no plan yet (oms owns every order)
    approved_at: datetime | None
    pending: CutoverPlan | None


def cutover_status(channel: Channel) -> CutoverStatus:
    plans = list(
        CutoverPlan.objects.filter(
            channel=channel, status__in=["active", "pending_approval"]
        ).order_by("-version")
    )
    active = next((p for p in plans if p.status == "active"), None)
    pending = next((p for p in plans if p.status == "pending_approval"), None)
    if active is None:
        return CutoverStatus(channel.code, CutoverMode.OMS, Decimal("100"), {}, None, None, pending)
    return CutoverStatus(
        channel=channel.code,
        mode=active.mode,
        share_percent=active.share_percent,
        narrowing=active.narrowing,
        version=active.version,
        approved_at=active.approved_at,
        pending=pending,
    )


@dataclass(frozen=True)
class Side:
    nodes: tuple[str, ...]
    shipments: int
    miles: float | None  # mean over its shipments; None when a node has no coordinates
    backordered: bool  # did not place every unit
    cost: Decimal | None = None  # estimated shipping cost (fulfillment/estimates.py)
    promise: date | None = None  # estimated delivery (or ready for pickup) date
    currency: str = ""


class Estimator:
    """Estimates both sides of a diff with the shadow decision's rule set (the same figures
    for both, so they compare like with like). Node kinds and rule configs are loaded once."""

    def __init__(self, node_codes: Iterable[str] = ()) -> None:
        self.kinds: dict[str, str] = {}
        self.rules: dict[int | None, RuleConfig] = {}
        self.load_kinds(node_codes)

    def load_kinds(self, codes: Iterable[str]) -> None:
        missing = sorted(set(codes) - set(self.kinds))
        if missing:
            self.kinds.update(Node.objects.filter(code__in=missing).values_list("code", "kind"))

    def rules_of(self, shadow: ShadowDecision) -> RuleConfig:
        key = shadow.rule_set_id
        if key not in self.rules:
            self.rules[key] = (
                RuleConfig.model_validate(shadow.rule_set.config)
                if shadow.rule_set is not None
                else RuleConfig()
            )
        return self.rules[key]

    def estimate(
        self, order: Order, shadow: ShadowDecision, nodes: Iterable[str], miles: dict[str, Any]
    ) -> Estimate | None:
        nodes = list(nodes)
        self.load_kinds(nodes)
        return estimate_shipments(
            nodes,
            kinds=self.kinds,
            miles={k: None if v is None else float(v) for k, v in miles.items()},
            rules=self.rules_of(shadow),
            placed_at=order.placed_at,
            service_level=order.service_level,
            delivery_method=order.delivery_method,
            currency=order.currency,
            tz=settings.TIME_ZONE,
        )


@dataclass(frozen=True)
class OrderDiff:
    order: str
    channel: str
    day: date
    oms: Side
    legacy: Side
    agrees: bool
    reason: str


def _units(allocations: Iterable[dict[str, Any]]) -> int:
    return sum(int(a["quantity"]) for a in allocations)


def _side(
    allocations: list[dict[str, Any]],
    miles: dict[str, Any],
    ordered: int,
    estimate: "Estimate | None" = None,
) -> Side:
    nodes = tuple(sorted({a["node"] for a in allocations}))
    distances = [miles.get(n) for n in nodes]
    known = [float(d) for d in distances if d is not None]
    mean = round(sum(known) / len(known), 1) if known and len(known) == len(nodes) else None
    return Side(
        nodes=nodes,
        shipments=len(nodes),
        miles=mean,
        backordered=_units(allocations) < ordered,
        cost=estimate.cost if estimate else None,
        promise=estimate.promise if estimate else None,
        currency=estimate.currency if estimate else "",
    )


def _reason(shadow: ShadowDecision, legacy: LegacyDecision, oms: Side, old: Side) -> str:
    if oms.nodes == old.nodes:
        return ""
    if not oms.nodes:
        return f"oms placed nothing ({shadow.outcome}): no node had the stock under its rules"
    if oms.shipments != old.shipments:
        return f"oms ships in {oms.shipments}, legacy in {old.shipments}"
    candidates = {c["code"]: c for c in shadow.plan.get("candidates", [])}
    parts = []
    for code in old.nodes:
        if code in oms.nodes:
            continue
        candidate = candidates.get(code)
        if candidate is None:
            parts.append(f"legacy node {code} was not among oms's best candidates")
        elif candidate["excluded"]:
            why = "; ".join(e["reason"] for e in candidate["excluded"])
            parts.append(f"legacy node {code} excluded by oms: {why}")
        else:
            chosen = [candidates[n] for n in oms.nodes if n in candidates]
            best = min(chosen, key=lambda c: c["score"] if c["score"] is not None else 0.0)
            parts.append(
                f"oms preferred {best['code']} (score {best['score']}) over legacy "
                f"{code} (score {candidate['score']})"
            )
    return "; ".join(parts)


def channel_order(channel: Channel, external_id: str) -> Order:
    """The channel's order with this external id (the legacy feed names orders so);
    `order_not_found` (404) otherwise."""
    order = Order.objects.filter(channel=channel, external_id=external_id).first()
    if order is None:
        raise NotFound(f"No order {external_id!r} on {channel.code}.", code="order_not_found")
    return order


def order_diff(order: Order) -> OrderDiff | None:
    """None until both decisions are in."""
    shadow = ShadowDecision.objects.filter(order=order).first()
    legacy = LegacyDecision.objects.filter(order=order).first()
    if shadow is None or legacy is None:
        return None
    return compare_decisions(
        order, shadow, legacy, sum(line.quantity for line in order.lines.all())
    )


def compare_decisions(
    order: Order,
    shadow: ShadowDecision,
    legacy: LegacyDecision,
    ordered: int,
    estimator: Estimator | None = None,
) -> OrderDiff:
    """oms's decision (stored, or an unsaved one a backtest planned) next to the legacy one,
    both estimated (cost, promise date) with the shadow decision's rule set."""
    estimator = estimator or Estimator()
    oms_nodes = {a["node"] for a in shadow.allocations}
    old_nodes = {a["node"] for a in legacy.allocations}
    oms = _side(
        shadow.allocations,
        shadow.node_miles,
        ordered,
        estimator.estimate(order, shadow, oms_nodes, shadow.node_miles),
    )
    old = _side(
        legacy.allocations,
        legacy.node_miles,
        ordered,
        estimator.estimate(order, shadow, old_nodes, legacy.node_miles),
    )
    return OrderDiff(
        order=order.number,
        channel=order.channel.code,
        day=order.placed_at.date(),
        oms=oms,
        legacy=old,
        agrees=oms.nodes == old.nodes,
        reason=_reason(shadow, legacy, oms, old),
    )


def order_diffs(
    *, channel_code: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> list[OrderDiff]:
    """Every shadow order with both decisions, oldest first; orders cancelled (wholly or some
    units) left out."""
    orders = Order.objects.filter(shadow_decision__isnull=False, legacy_decision__isnull=False)
    orders = orders.exclude(legacy_decision__is_cancelled=True).exclude(status="cancelled")
    # A cancel (the legacy system's, migration/services/legacy_cancellation.py) changed the
    # quantity oms planned: no like-for-like comparison is left.
    orders = orders.exclude(lines__cancelled_quantity__gt=0)
    if channel_code:
        orders = orders.filter(channel__code=channel_code)
    if since:
        orders = orders.filter(placed_at__gte=since)
    if until:
        orders = orders.filter(placed_at__lt=until)
    rows = list(
        orders.select_related("channel", "shadow_decision__rule_set", "legacy_decision")
        .prefetch_related("lines")
        .order_by("placed_at", "id")
    )
    estimator = Estimator(
        a["node"]
        for o in rows
        for a in [*o.shadow_decision.allocations, *o.legacy_decision.allocations]
    )
    return [
        compare_decisions(
            o,
            o.shadow_decision,
            o.legacy_decision,
            sum(li.quantity for li in o.lines.all()),
            estimator,
        )
        for o in rows
    ]


@dataclass
class SystemFigures:
    orders: int = 0
    split: int = 0
    backordered: int = 0
    miles: list[float] = field(default_factory=list)
    costs: list[Decimal] = field(default_factory=list)
    promise_days: list[int] = field(default_factory=list)  # placement day to promise date

    def add(self, side: Side, placed: date) -> None:
        self.orders += 1
        self.split += side.shipments > 1
        self.backordered += side.backordered
        if side.miles is not None:
            self.miles.append(side.miles)
        if side.cost is not None:
            self.costs.append(side.cost)
        if side.promise is not None:
            self.promise_days.append((side.promise - placed).days)

    def as_dict(self) -> dict[str, Any]:
        return {
            "split_rate": _pct(self.split, self.orders),
            "backorder_rate": _pct(self.backordered, self.orders),
            "avg_miles": round(sum(self.miles) / len(self.miles), 1) if self.miles else None,
            "total_cost": sum(self.costs, Decimal("0.00")) if self.costs else None,
            "avg_cost": (
                (sum(self.costs, Decimal("0.00")) / len(self.costs)).quantize(Decimal("0.01"))
                if self.costs
                else None
            ),
            "avg_promise_days": (
                round(sum(self.promise_days) / len(self.promise_days), 2)
                if self.promise_days
                else None
            ),
        }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class SummaryRow:
    day: date | None  # None: the whole period
    channel: str
    compared: int
    agreed: int
    agreement: float | None  # percent
    oms: dict[str, Any]
    legacy: dict[str, Any]
    promise_earlier: int = 0  # orders oms would deliver earlier than the legacy system
    promise_later: int = 0
    currency: str = ""


def shadow_summary(diffs: list[OrderDiff], *, by_day: bool = True) -> list[SummaryRow]:
    """Per (day, channel), or per channel for the whole period with by_day=False."""
    groups: dict[tuple[date | None, str], list[OrderDiff]] = defaultdict(list)
    for diff in diffs:
        groups[(diff.day if by_day else None, diff.channel)].append(diff)
    rows = []
    for (day, channel), members in sorted(
        groups.items(), key=lambda kv: (kv[0][0] or date.min, kv[0][1])
    ):
        oms, legacy = SystemFigures(), SystemFigures()
        for diff in members:
            oms.add(diff.oms, diff.day)
            legacy.add(diff.legacy, diff.day)
        agreed = sum(d.agrees for d in members)
        # Of the orders both systems placed: does oms promise earlier, the same day, later?
        both = [
            (d.oms.promise, d.legacy.promise)
            for d in members
            if d.oms.promise is not None and d.legacy.promise is not None
        ]
        earlier = sum(ours < theirs for ours, theirs in both)
        later = sum(ours > theirs for ours, theirs in both)
        rows.append(
            SummaryRow(
                day=day,
                channel=channel,
                compared=len(members),
                agreed=agreed,
                agreement=_pct(agreed, len(members)),
                oms=oms.as_dict(),
                legacy=legacy.as_dict(),
                promise_earlier=earlier,
                promise_later=later,
                currency=next((d.oms.currency or d.legacy.currency for d in members), ""),
            )
        )
    return rows
