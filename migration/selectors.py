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

from migration.models import CutoverMode, CutoverPlan, LegacyDecision, ShadowDecision
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


def _side(allocations: list[dict[str, Any]], miles: dict[str, Any], ordered: int) -> Side:
    nodes = tuple(sorted({a["node"] for a in allocations}))
    distances = [miles.get(n) for n in nodes]
    known = [float(d) for d in distances if d is not None]
    mean = round(sum(known) / len(known), 1) if known and len(known) == len(nodes) else None
    return Side(
        nodes=nodes,
        shipments=len(nodes),
        miles=mean,
        backordered=_units(allocations) < ordered,
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
    order: Order, shadow: ShadowDecision, legacy: LegacyDecision, ordered: int
) -> OrderDiff:
    """oms's decision (stored, or an unsaved one a backtest planned) next to the legacy one."""
    oms = _side(shadow.allocations, shadow.node_miles, ordered)
    old = _side(legacy.allocations, legacy.node_miles, ordered)
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
    """Every shadow order with both decisions (cancelled legacy decisions left out), oldest
    first."""
    orders = Order.objects.filter(shadow_decision__isnull=False, legacy_decision__isnull=False)
    orders = orders.exclude(legacy_decision__is_cancelled=True)
    if channel_code:
        orders = orders.filter(channel__code=channel_code)
    if since:
        orders = orders.filter(placed_at__gte=since)
    if until:
        orders = orders.filter(placed_at__lt=until)
    rows = orders.select_related("channel", "shadow_decision", "legacy_decision").prefetch_related(
        "lines"
    )
    return [
        compare_decisions(
            o, o.shadow_decision, o.legacy_decision, sum(li.quantity for li in o.lines.all())
        )
        for o in rows.order_by("placed_at", "id")
    ]


@dataclass
class SystemFigures:
    orders: int = 0
    split: int = 0
    backordered: int = 0
    miles: list[float] = field(default_factory=list)

    def add(self, side: Side) -> None:
        self.orders += 1
        self.split += side.shipments > 1
        self.backordered += side.backordered
        if side.miles is not None:
            self.miles.append(side.miles)

    def as_dict(self) -> dict[str, Any]:
        return {
            "split_rate": _pct(self.split, self.orders),
            "backorder_rate": _pct(self.backordered, self.orders),
            "avg_miles": round(sum(self.miles) / len(self.miles), 1) if self.miles else None,
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
            oms.add(diff.oms)
            legacy.add(diff.legacy)
        agreed = sum(d.agrees for d in members)
        rows.append(
            SummaryRow(
                day=day,
                channel=channel,
                compared=len(members),
                agreed=agreed,
                agreement=_pct(agreed, len(members)),
                oms=oms.as_dict(),
                legacy=legacy.as_dict(),
            )
        )
    return rows
