"""Backtests: what would a rule set have done to past orders, next to the active set?

Nothing is written except the report: stock is simulated in memory. Both sets start from the
same stock, each node's physical count minus its safety stock as it stands now (reservations
ignored, since the replayed orders' own reservations are part of them), and both draw it down
as they allocate the period's orders in placement order. Daily capacity is counted per replayed
day. The figures compare the two sets on equal terms; they are not a forecast of the past.
"""

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Prefetch

from fulfillment.events import RULESET_BACKTESTED
from fulfillment.models import BacktestReport, RoutingRuleSet
from fulfillment.rules import RuleConfig
from fulfillment.selectors import active_rule_set_for
from fulfillment.services.routing import destination_of
from fulfillment.sourcing import CandidateNode, LineDemand, OrderDemand, StockInfo, plan_order
from inventory.models import Node, StockLevel
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput, NotFound
from oms.events.services import record_event
from orders.models import LineStatus, Order, OrderLine, OrderStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the AUTH_USER_MODEL the user FKs point to

# A backtest replays at most this many orders (the most recent of the period): about a minute
# of CPU at ~3 ms per plan and set; larger periods are sampled by their latest orders.
MAX_ORDERS = 20_000


@dataclass
class _Tally:
    orders: int = 0
    fully_sourced: int = 0
    with_shipments: int = 0
    split: int = 0
    shipments: int = 0
    distance_total: float = 0.0
    distance_count: int = 0
    cost_total: float = 0.0
    backordered_units: int = 0
    rejected: int = 0
    node_load: Counter[str] = field(default_factory=Counter)
    plan_ms: list[float] = field(default_factory=list)

    def as_metrics(self) -> dict[str, Any]:
        def share(part: int, whole: int) -> float:
            return round(part / whole, 4) if whole else 0.0

        ms = sorted(self.plan_ms)
        return {
            "orders": self.orders,
            "fully_sourced_share": share(self.fully_sourced, self.orders),
            "split_shipment_rate": share(self.split, self.with_shipments),
            "shipments": self.shipments,
            "average_distance_miles": (
                round(self.distance_total / self.distance_count, 1) if self.distance_count else None
            ),
            "estimated_cost": round(self.cost_total, 2),
            "backordered_units": self.backordered_units,
            "rejected_orders": self.rejected,
            "node_load": dict(sorted(self.node_load.items())),
            "plan_ms_p50": round(statistics.median(ms), 3) if ms else None,
            "plan_ms_p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 3) if ms else None,
        }


def run_backtest(
    *,
    rule_set_id: int,
    period_from: datetime,
    period_to: datetime,
    user: "User | None",
) -> BacktestReport:
    """Replay the period's orders (of the set's channel, or all channels for a default set)
    against the candidate and the currently active set; store and return the report."""
    if period_from >= period_to:
        raise InvalidInput([FieldError("invalid_period", "'from' must be before 'to'.", "from")])
    candidate = RoutingRuleSet.objects.select_related("channel").filter(pk=rule_set_id).first()
    if candidate is None:
        raise NotFound(f"No routing rule set {rule_set_id}.", code="rule_set_not_found")
    baseline = active_rule_set_for(candidate.channel_id)
    started = time.perf_counter()
    orders = _orders(candidate.channel_id, period_from, period_to)
    nodes = list(Node.objects.order_by("id"))
    product_ids = sorted({line.product_id for order in orders for line in order.lines.all()})
    stock = _starting_stock(product_ids)
    candidate_metrics = _simulate(orders, nodes, stock, RuleConfig.model_validate(candidate.config))
    baseline_rules = RuleConfig.model_validate(baseline.config) if baseline else RuleConfig()
    baseline_metrics = _simulate(orders, nodes, stock, baseline_rules)
    with transaction.atomic():
        report = BacktestReport(
            rule_set=candidate,
            baseline=baseline,
            period_from=period_from,
            period_to=period_to,
            orders_considered=len(orders),
            candidate_metrics=candidate_metrics,
            baseline_metrics={
                **baseline_metrics,
                "label": str(baseline) if baseline else "built-in defaults",
            },
            created_by=user,
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )
        report.save(force_insert=True)
        actor = Actor.for_user(user) if user is not None else Actor.system("backtest")
        record_event(
            stream=candidate.stream,
            type=RULESET_BACKTESTED,
            actor=actor,
            payload={
                "rule_set_id": candidate.pk,
                "key": candidate.key,
                "version": candidate.version,
                "channel": candidate.channel.code if candidate.channel else None,
                "status": candidate.status,
                "report_id": report.pk,
                "period_from": period_from.isoformat(),
                "period_to": period_to.isoformat(),
                "orders_considered": len(orders),
            },
        )
    return report


def _orders(channel_id: int | None, period_from: datetime, period_to: datetime) -> list[Order]:
    queryset = (
        Order.objects.filter(placed_at__gte=period_from, placed_at__lt=period_to)
        .exclude(status=OrderStatus.CANCELLED)
        .select_related("pickup_node")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.exclude(status=LineStatus.CANCELLED).order_by("id"),
            )
        )
    )
    if channel_id is not None:
        queryset = queryset.filter(channel_id=channel_id)
    latest = list(queryset.order_by("-placed_at", "-id")[:MAX_ORDERS])
    return sorted(latest, key=lambda order: (order.placed_at, order.pk))


def _starting_stock(product_ids: list[int]) -> dict[tuple[int, int], int]:
    return {
        (node_id, product_id): max(0, on_hand - safety)
        for node_id, product_id, on_hand, safety in StockLevel.objects.filter(
            product_id__in=product_ids
        ).values_list("node_id", "product_id", "on_hand", "safety_stock")
    }


def _simulate(
    orders: list[Order],
    nodes: list[Node],
    starting_stock: dict[tuple[int, int], int],
    rules: RuleConfig,
) -> dict[str, Any]:
    stock = dict(starting_stock)
    load: dict[tuple[date, int], int] = defaultdict(int)
    kinds = {node.pk: node.kind for node in nodes}
    tally = _Tally()
    for order in orders:
        lines = list(order.lines.all())
        if not lines:
            continue
        day = order.placed_at.date()
        demand = OrderDemand(
            lines=tuple(
                LineDemand(
                    line_id=line.pk,
                    product_id=line.product_id,
                    sku=line.sku,
                    line_number=line.line_number,
                    quantity=line.quantity,
                )
                for line in lines
            ),
            delivery_method=order.delivery_method,
            service_level=order.service_level,
            destination=destination_of(order),
            pickup_node_id=order.pickup_node_id,
        )
        candidates = [
            _candidate(node, stock, load.get((day, node.pk), 0), demand, order.placed_at)
            for node in nodes
        ]
        started = time.perf_counter()
        plan = plan_order(demand, candidates, rules, now=order.placed_at)
        tally.plan_ms.append((time.perf_counter() - started) * 1000)
        tally.orders += 1
        product_of = {line.pk: line.product_id for line in lines}
        used_nodes = sorted({a.node_id for a in plan.assignments})
        for a in plan.assignments:
            key = (a.node_id, product_of[a.line_id])
            stock[key] = stock.get(key, 0) - a.quantity
        distances = {c.node_id: c.distance_miles for c in plan.candidates}
        for node_id in used_nodes:
            load[(day, node_id)] += 1
            code = next(node.code for node in nodes if node.pk == node_id)
            tally.node_load[code] += 1
            miles = distances.get(node_id)
            per_shipment = rules.costs.per_shipment.get(kinds[node_id], 0.0)
            tally.cost_total += per_shipment + (rules.costs.per_mile * (miles or 0.0))
            if miles is not None:
                tally.distance_total += miles
                tally.distance_count += 1
        tally.shipments += len(used_nodes)
        if used_nodes:
            tally.with_shipments += 1
        if len(used_nodes) > 1:
            tally.split += 1
        if plan.outcome == "rejected":
            tally.rejected += 1
        backordered = sum(b.quantity for b in plan.backordered)
        tally.backordered_units += backordered
        if plan.outcome == "routed" and not backordered:
            tally.fully_sourced += 1
    return tally.as_metrics()


def _candidate(
    node: Node,
    stock: dict[tuple[int, int], int],
    used_today: int,
    demand: OrderDemand,
    as_of: datetime,
) -> CandidateNode:
    return CandidateNode(
        node_id=node.pk,
        code=node.code,
        name=node.name,
        kind=node.kind,
        latitude=float(node.latitude),
        longitude=float(node.longitude),
        priority=node.priority,
        fulfillment_region=node.fulfillment_region,
        is_active=node.is_active,
        can_ship=node.can_ship,
        can_pickup=node.can_pickup,
        can_curbside=node.can_curbside,
        can_ship_from_store=node.can_ship_from_store,
        daily_capacity=node.daily_capacity,
        capacity_used_today=used_today,
        stock={
            line.product_id: StockInfo(
                available=stock.get((node.pk, line.product_id), 0),
                on_hand=stock.get((node.pk, line.product_id), 0),
                last_reported_at=as_of,  # simulated stock is as fresh as the replay
            )
            for line in demand.lines
            if (node.pk, line.product_id) in stock
        },
    )
