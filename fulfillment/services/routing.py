"""route_order(): decide which node ships which quantity, reserve it, and say why.

One transaction: lock the order and its lines, load candidates (nodes, their stock for the
order's products, today's load), plan with the active rule set (fulfillment.sourcing, pure),
reserve the plan with conditional UPDATEs (inventory.reservations), and write the
RoutingDecision and the `order.routed` / `order.backordered` events.

Idempotent: only quantities not yet reserved are routed, so running it again on a routed order
does nothing, and on a backordered order it routes exactly what is still missing. If another
order takes the stock between planning and reserving (the conditional UPDATE says so), the
missing quantity is planned again against fresh stock, at most MAX_ATTEMPTS times.
"""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentStatus,
    RoutingDecision,
    RoutingOutcome,
    RoutingRuleSet,
)
from fulfillment.rules import RuleConfig
from fulfillment.selectors import active_rule_set_for
from fulfillment.services.rollup import rollup_order
from fulfillment.sourcing import (
    CandidateNode,
    Destination,
    LineDemand,
    OrderDemand,
    Plan,
    StockInfo,
    plan_order,
)
from inventory.models import Node, Reservation, ReservationStatus, StockLevel
from inventory.reservations import ReservationRequest, reserve
from oms.core.actors import Actor
from oms.core.geo import resolve_postal_code
from oms.events.models import Event
from oms.events.services import record_event
from orders.events import ORDER_BACKORDERED, ORDER_ROUTED, ORDER_UNROUTABLE
from orders.locks import lock_order
from orders.models import DeliveryMethod, LineStatus, Order, OrderLine, OrderStatus

MAX_ATTEMPTS = 3
# Orders with quantity that may still need a node: new, waiting, or partly at nodes after a
# rejection or short pick (route_order only routes what no reservation covers).
ROUTABLE_STATUSES = (
    OrderStatus.CREATED,
    OrderStatus.BACKORDERED,
    OrderStatus.ALLOCATED,
    OrderStatus.RELEASED,
    OrderStatus.PARTIALLY_SHIPPED,
)


@dataclass(frozen=True)
class RoutingInputs:
    """Everything plan_order needs, loaded from the database in a constant number of queries."""

    demand: OrderDemand
    nodes: list[CandidateNode]
    rules: RuleConfig
    rule_set: RoutingRuleSet | None
    stock_level_ids: dict[tuple[int, int], int]  # (node, product) → StockLevel id


def route_order(*, order_id: int, actor: Actor, trigger: str = "capture") -> RoutingDecision | None:
    """Route what is not yet reserved. Returns the new decision, or None when there was nothing
    to route (already allocated, closed, or every line fully reserved)."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status not in ROUTABLE_STATUSES:
            return None
        lines = list(
            OrderLine.objects.select_for_update(of=("self",))
            .filter(order_id=order.pk)
            .exclude(status=LineStatus.CANCELLED)
            .select_related("product")
            .order_by("id")
        )
        missing = _missing_quantities(lines)
        if not any(missing.values()):
            return None
        rule_set = active_rule_set_for(order.channel_id)
        rules = _without_failed_nodes(
            RuleConfig.model_validate(rule_set.config) if rule_set else RuleConfig(), order
        )
        started = time.perf_counter()
        plans: list[Plan] = []
        reserved: dict[int, int] = defaultdict(int)
        taken: list[tuple[int, str, int]] = []  # (line id, node code, quantity) reserved
        for _attempt in range(MAX_ATTEMPTS):
            remaining = {line_id: qty - reserved[line_id] for line_id, qty in missing.items()}
            if not any(remaining.values()):
                break
            inputs = load_routing_inputs(order, lines, remaining, rules=rules, rule_set=rule_set)
            plan = plan_order(inputs.demand, inputs.nodes, rules, now=timezone.now())
            plans.append(plan)
            if not plan.assignments:
                break
            requests = [
                ReservationRequest(
                    node_id=a.node_id,
                    product_id=_product_of(lines, a.line_id),
                    quantity=a.quantity,
                    order_line_id=a.line_id,
                    stock_level_id=inputs.stock_level_ids.get(
                        (a.node_id, _product_of(lines, a.line_id))
                    ),
                )
                for a in plan.assignments
            ]
            results = reserve(requests=requests, actor=actor, reference_id=order.number)
            for assignment, request, result in zip(
                plan.assignments, requests, results, strict=True
            ):
                if result is not None:
                    reserved[request.order_line_id] += request.quantity
                    taken.append((request.order_line_id, assignment.node_code, request.quantity))
            if all(result is not None for result in results):
                break  # otherwise someone took stock meanwhile: plan the rest again
        elapsed_ms = (time.perf_counter() - started) * 1000
        return _record(
            order, lines, missing, reserved, taken, plans, rule_set, trigger, elapsed_ms, actor
        )


def _without_failed_nodes(rules: RuleConfig, order: Order) -> RuleConfig:
    """A node that rejected this order, or came up short on it, is not asked again."""
    failed = sorted(
        set(
            FulfillmentOrder.objects.filter(order_id=order.pk)
            .filter(Q(status=FulfillmentStatus.REJECTED) | Q(lines__short_quantity__gt=0))
            .values_list("node__code", flat=True)
        )
    )
    if not failed:
        return rules
    excluded = sorted(set(rules.filters.excluded_nodes) | set(failed))
    return rules.model_copy(
        update={"filters": rules.filters.model_copy(update={"excluded_nodes": excluded})}
    )


def _missing_quantities(lines: list[OrderLine]) -> dict[int, int]:
    """Per line, the quantity neither held by an active reservation nor shipped (a consumed
    reservation covers only what it actually shipped; its rest was released)."""
    covered: dict[int, int] = defaultdict(int)
    for line_id, status, quantity, consumed in Reservation.objects.filter(
        order_line_id__in=[line.pk for line in lines],
        status__in=[ReservationStatus.ACTIVE, ReservationStatus.CONSUMED],
    ).values_list("order_line_id", "status", "quantity", "consumed_quantity"):
        covered[line_id] += quantity if status == ReservationStatus.ACTIVE else consumed
    # Cancelled units (a partial cancel) are not routed.
    return {line.pk: max(0, line.live_quantity - covered[line.pk]) for line in lines}


def _product_of(lines: list[OrderLine], line_id: int) -> int:
    return next(line.product_id for line in lines if line.pk == line_id)


def load_routing_inputs(
    order: Order,
    lines: list[OrderLine],
    quantities: dict[int, int],
    *,
    rules: RuleConfig,
    rule_set: RoutingRuleSet | None,
    stock_override: dict[tuple[int, int], int] | None = None,
) -> RoutingInputs:
    """Build plan_order's inputs. `stock_override` ((node_id, product_id) → available) lets
    backtests plan against simulated stock without touching the database."""
    demand = OrderDemand(
        lines=tuple(
            LineDemand(
                line_id=line.pk,
                product_id=line.product_id,
                sku=line.sku,
                line_number=line.line_number,
                quantity=quantities[line.pk],
            )
            for line in lines
            if quantities.get(line.pk, 0) > 0
        ),
        delivery_method=order.delivery_method,
        service_level=order.service_level,
        destination=destination_of(order),
        pickup_node_id=order.pickup_node_id,
    )
    product_ids = sorted({line.product_id for line in demand.lines})
    stock_level_ids: dict[tuple[int, int], int] = {}
    return RoutingInputs(
        demand=demand,
        nodes=candidate_nodes(
            product_ids, stock_override=stock_override, stock_level_ids=stock_level_ids
        ),
        rules=rules,
        rule_set=rule_set,
        stock_level_ids=stock_level_ids,
    )


def destination_of(order: Order) -> Destination:
    """Where the parcel goes: the pickup store, the order's own coordinates, or the ZIP code's.
    The state is a two-letter code (region rules use those): the order's region when it is one,
    else the ZIP code's state."""
    if order.delivery_method != DeliveryMethod.SHIP and order.pickup_node is not None:
        node = order.pickup_node
        return Destination(
            latitude=float(node.latitude),
            longitude=float(node.longitude),
            state=node.region.upper(),
            country=node.country,
        )
    region = order.ship_region.strip().upper()
    located = resolve_postal_code(order.ship_postal_code, order.ship_country)
    state = region if len(region) == 2 else (located[2] if located else region)
    if order.ship_latitude is not None and order.ship_longitude is not None:
        return Destination(
            latitude=float(order.ship_latitude),
            longitude=float(order.ship_longitude),
            state=state,
            country=order.ship_country,
        )
    if located is not None:
        return Destination(
            latitude=located[0], longitude=located[1], state=state, country=order.ship_country
        )
    return Destination(latitude=None, longitude=None, state=state, country=order.ship_country)


NODE_FIELDS = (
    "id",
    "code",
    "name",
    "kind",
    "latitude",
    "longitude",
    "priority",
    "fulfillment_region",
    "is_active",
    "can_ship",
    "can_pickup",
    "can_curbside",
    "can_ship_from_store",
    "daily_capacity",
)


def candidate_nodes(
    product_ids: list[int],
    *,
    stock_override: dict[tuple[int, int], int] | None = None,
    stock_level_ids: dict[tuple[int, int], int] | None = None,
) -> list[CandidateNode]:
    """Every node (the engine records why inactive ones are excluded) with its stock of
    `product_ids` and today's load. Two queries plus a cached load figure, whatever the number
    of nodes; rows are read as tuples because model instances for 200 nodes cost milliseconds."""
    stock: dict[int, dict[int, StockInfo]] = defaultdict(dict)
    for pk, node_id, product_id, available, on_hand, reported in StockLevel.objects.filter(
        product_id__in=product_ids
    ).values_list("pk", "node_id", "product_id", "available", "on_hand", "last_reported_at"):
        if stock_level_ids is not None:
            stock_level_ids[(node_id, product_id)] = pk
        if stock_override is not None:
            available = stock_override.get((node_id, product_id), available)
        stock[node_id][product_id] = StockInfo(
            available=available, on_hand=on_hand, last_reported_at=reported
        )
    load = orders_routed_today_by_node()
    return [
        CandidateNode(
            node_id=row[0],
            code=row[1],
            name=row[2],
            kind=row[3],
            latitude=float(row[4]),
            longitude=float(row[5]),
            priority=row[6],
            fulfillment_region=row[7],
            is_active=row[8],
            can_ship=row[9],
            can_pickup=row[10],
            can_curbside=row[11],
            can_ship_from_store=row[12],
            daily_capacity=row[13],
            capacity_used_today=load.get(row[0], 0),
            stock=stock.get(row[0], {}),
        )
        for row in Node.objects.order_by("id").values_list(*NODE_FIELDS)
    ]


# Daily capacity is a soft limit: a node's load figure may be this many seconds old. Counting
# today's reservations on every routing costs a scan that grows with the day's traffic (15 ms at
# 20,000 orders); a per-process cache keeps routing flat. A node can therefore overshoot its
# capacity by what it takes in LOAD_CACHE_SECONDS.
LOAD_CACHE_SECONDS = 5.0
_load_cache: dict[str, Any] = {"at": 0.0, "day": None, "load": {}}


def orders_routed_today_by_node(now: datetime | None = None) -> dict[int, int]:
    """Distinct orders each node took since midnight UTC (its daily capacity is per order)."""
    now = now or timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    clock = time.monotonic()
    if _load_cache["day"] == midnight and clock - _load_cache["at"] < LOAD_CACHE_SECONDS:
        return _load_cache["load"]
    load = dict(
        Reservation.objects.filter(
            created_at__gte=midnight, created_at__lt=midnight + timedelta(days=1)
        )
        .values_list("node_id")
        .annotate(orders=Count("order_line__order_id", distinct=True))
        .order_by()
    )
    _load_cache.update(at=clock, day=midnight, load=load)
    return load


def forget_cached_load() -> None:
    """Tests and backtests that need exact capacity figures call this first."""
    _load_cache.update(at=0.0, day=None, load={})


def _record(
    order: Order,
    lines: list[OrderLine],
    missing: dict[int, int],
    reserved: dict[int, int],
    taken: list[tuple[int, str, int]],
    plans: list[Plan],
    rule_set: RoutingRuleSet | None,
    trigger: str,
    elapsed_ms: float,
    actor: Actor,
) -> RoutingDecision:
    short = {
        line_id: qty - reserved[line_id]
        for line_id, qty in missing.items()
        if qty - reserved[line_id] > 0
    }
    rejected = bool(plans) and plans[-1].outcome == RoutingOutcome.REJECTED and not reserved
    if rejected:
        outcome = RoutingOutcome.REJECTED
    elif not short:
        outcome = RoutingOutcome.ROUTED
    elif any(reserved.values()):
        outcome = RoutingOutcome.PARTIALLY_BACKORDERED
    else:
        outcome = RoutingOutcome.BACKORDERED
    decision = RoutingDecision(
        order=order,
        rule_set=rule_set,
        rule_set_label=str(rule_set) if rule_set else "built-in defaults",
        trigger=trigger,
        outcome=outcome,
        # Compact: chosen nodes, the best alternatives and exclusions, counts per filter
        # (Plan.to_stored_dict); the whole candidate list of 200 nodes was ~60 KB a decision.
        plan={"attempts": [plan.to_stored_dict() for plan in plans]},
        explanation=list(plans[-1].explanation) if plans else [],
        elapsed_ms=round(elapsed_ms, 3),
    )
    decision.save(force_insert=True)
    if rejected:
        record_event(
            stream=order.stream,
            type=ORDER_UNROUTABLE,
            actor=actor,
            payload={
                "decision_id": decision.pk,
                "rule_set": decision.rule_set_label,
                "explanation": decision.explanation,
            },
            subject=order,  # a stuck_order exception case follows (ops/handlers.py)
        )
        return decision
    allocations = _allocations(lines, taken)
    last_event: Event | None = None  # the next event follows it: no sequence lookup
    if allocations:
        last_event = record_event(
            stream=order.stream,
            type=ORDER_ROUTED,
            actor=actor,
            payload={
                "decision_id": decision.pk,
                "rule_set": decision.rule_set_label,
                "trigger": trigger,
                "allocations": allocations,
                "explanation": decision.explanation,
            },
        )
    if short:
        last_event = record_event(
            stream=order.stream,
            type=ORDER_BACKORDERED,
            actor=actor,
            payload={
                "decision_id": decision.pk,
                "lines": [
                    {"line_number": line.line_number, "sku": line.sku, "quantity": short[line.pk]}
                    for line in lines
                    if line.pk in short
                ],
            },
            previous=last_event,
        )
    rollup_order(order, lines=lines, last_event=last_event)  # lines locked above: no re-read
    return decision


def _allocations(lines: list[OrderLine], taken: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    by_line = {line.pk: line for line in lines}
    rows: dict[tuple[int, str], int] = defaultdict(int)
    for line_id, node_code, quantity in taken:
        rows[(by_line[line_id].line_number, node_code)] += quantity
    return [
        {
            "line_number": line_number,
            "sku": next(line.sku for line in lines if line.line_number == line_number),
            "node": node_code,
            "quantity": quantity,
        }
        for (line_number, node_code), quantity in sorted(rows.items())
    ]
