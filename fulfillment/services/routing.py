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
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field, Max, OuterRef, Q, Subquery
from django.utils import timezone

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    RoutingDecision,
    RoutingOutcome,
    RoutingRuleSet,
)
from fulfillment.rules import RuleConfig
from fulfillment.selectors import active_rule_set_for
from fulfillment.services.rollup import (
    LineFigures,
    StatusWrites,
    figures_of,
    figures_params,
    figures_sql,
    line_figures,
    rollup_order_and_tail,
)
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
from oms.core.models import RuleSetStatus
from oms.core.queries import bound_cursor, insert_rows_bound, new_row, opaque_array, raw_bound
from oms.core.transactions import require_atomic
from oms.events.models import Event
from oms.events.services import events_in_one_insert, record_event
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
    # Its events (order.routed or .backordered, order.status_changed) in one INSERT at the end
    # (none has a handler; order.unroutable, which has, writes the batch before it).
    with transaction.atomic(), events_in_one_insert():
        return route_locked_order(lock_order(order_id), actor=actor, trigger=trigger).decision


@dataclass(frozen=True)
class Routed:
    decision: RoutingDecision | None  # None: nothing to route
    last_event: Event | None  # the last event routing appended to the order's stream, if any
    # The order's live lines as routing locked and rolled them up, and their figures after it
    # (rollup.line_figures: what it reserved counted as waiting at the OMS); None when routing
    # did not roll the order up. The caller's next roll-up in the transaction reads neither.
    lines: list[OrderLine] | None = None
    figures: dict[int, LineFigures] | None = None


def route_locked_order(
    order: Order, *, actor: Actor, trigger: str = "capture", writes: StatusWrites | None = None
) -> Routed:
    """route_order() for a caller that already holds the order's lock in its transaction
    (orchestration): no savepoint and no second lock of the same row. `order` is the instance
    the caller locked; the roll-up updates its status in place (its rows written by
    `writes.flush()` when given). Also returns the last event routing appended, for the
    caller's next event to follow without a sequence lookup, and the lines and figures it
    rolled up."""
    require_atomic("route_locked_order()")
    if order.status not in ROUTABLE_STATUSES:
        return Routed(None, None)
    state = _lock_lines(order)
    lines = state.lines
    missing = state.missing
    if not any(missing.values()):
        return Routed(None, None)
    rule_set, configured = _rule_set(state.rule_set_id, state.rule_set_updated_at)
    rules = _without_failed_nodes(configured, state.failed_nodes)
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
        for assignment, request, result in zip(plan.assignments, requests, results, strict=True):
            if result is not None:
                reserved[request.order_line_id] += request.quantity
                taken.append((request.order_line_id, assignment.node_code, request.quantity))
        if all(result is not None for result in results):
            break  # otherwise someone took stock meanwhile: plan the rest again
    elapsed_ms = (time.perf_counter() - started) * 1000
    return _record(
        order, state, reserved, taken, plans, rule_set, trigger, elapsed_ms, actor, writes
    )


@dataclass
class LockedLines:
    """What route_order reads under the order lock, in one statement (_lock_lines)."""

    lines: list[OrderLine]
    missing: dict[int, int]  # line id → quantity no reservation covers
    figures: dict[int, LineFigures]  # line id → progress before routing (for the rollup)
    failed_nodes: list[str]  # codes of nodes that rejected this order or came up short on it
    last_seq: int  # the order stream's last event sequence (0: none yet)
    rule_set_id: int | None  # the active rule set for the order's channel (else the default)
    rule_set_updated_at: datetime | None


def _lock_lines(order: Order) -> LockedLines:
    """Lock the order's live lines (by id) and read, in the same statement, everything routing
    needs about them and the order: per line what reservations cover and how far it got
    (rollup.line_figures), the nodes that failed the order, the stream's last event and the
    active rule set. One round trip instead of six. The order lock is already held, so this
    statement's snapshot sees every change of earlier holders of that lock. Elsewhere than
    PostgreSQL (SQLite, make run's demo) the same figures come from the ORM in a few queries."""
    if connection.vendor != "postgresql":
        return _lock_lines_portable(order)
    line = OrderLine._meta.db_table
    fo_line = FulfillmentOrderLine._meta.db_table
    fo = FulfillmentOrder._meta.db_table
    node = Node._meta.db_table
    event = Event._meta.db_table
    rule_set = RoutingRuleSet._meta.db_table
    figure_columns, figure_joins = figures_sql(consumed=True)
    sql = f"""
        SELECT l.*, {figure_columns},
            ARRAY(
                SELECT DISTINCT n.code FROM {fo} fo
                JOIN {node} n ON n.id = fo.node_id
                LEFT JOIN {fo_line} fl ON fl.fulfillment_id = fo.id
                WHERE fo.order_id = %(order)s
                  AND (fo.status = %(rejected)s OR fl.short_quantity > 0)
                ORDER BY n.code
            ) AS routing_failed_nodes,
            (SELECT MAX(e.seq) FROM {event} e WHERE e.stream = %(stream)s) AS routing_last_seq,
            rs.id AS routing_rule_set_id,
            rs.updated_at AS routing_rule_set_updated_at
        FROM {line} l
        {figure_joins}
        LEFT JOIN LATERAL (
            SELECT s.id, s.updated_at FROM {rule_set} s
            WHERE s.status = %(rule_set_active)s
              AND (s.channel_id = %(channel)s OR s.channel_id IS NULL)
            ORDER BY s.channel_id NULLS LAST
            LIMIT 1
        ) rs ON TRUE
        WHERE l.order_id = %(order)s AND NOT l.status = %(cancelled)s
        ORDER BY l.id
        FOR UPDATE OF l
    """  # noqa: S608 - table names from models, values are parameters
    params = {
        "order": order.pk,
        "stream": order.stream,
        "channel": order.channel_id,
        "rejected": FulfillmentStatus.REJECTED,
        "rule_set_active": RuleSetStatus.ACTIVE,
        "cancelled": LineStatus.CANCELLED,
        **figures_params(),
    }
    lines: list[Any] = raw_bound(OrderLine, sql, params)  # prepared after a few orders
    missing: dict[int, int] = {}
    figures: dict[int, LineFigures] = defaultdict(LineFigures)
    for line in lines:
        # A consumed reservation covers only what it shipped (its rest was released);
        # cancelled units (a partial cancel) are not routed.
        covered = line.fig_waiting + line.fig_at_node + line.fig_consumed
        missing[line.pk] = max(0, line.live_quantity - covered)
        figures[line.pk] = figures_of(line)
    first = lines[0] if lines else None
    return LockedLines(
        lines=lines,
        missing=missing,
        figures=figures,
        failed_nodes=list(first.routing_failed_nodes) if first else [],
        last_seq=(first.routing_last_seq or 0) if first else 0,
        rule_set_id=first.routing_rule_set_id if first else None,
        rule_set_updated_at=first.routing_rule_set_updated_at if first else None,
    )


def _lock_lines_portable(order: Order) -> LockedLines:
    lines = list(
        OrderLine.objects.select_for_update(of=("self",))
        .filter(order_id=order.pk)
        .exclude(status=LineStatus.CANCELLED)
        .order_by("id")
    )
    ids = [line.pk for line in lines]
    covered: dict[int, int] = defaultdict(int)
    for line_id, status, quantity, consumed in Reservation.objects.filter(
        order_line_id__in=ids,
        status__in=[ReservationStatus.ACTIVE, ReservationStatus.CONSUMED],
    ).values_list("order_line_id", "status", "quantity", "consumed_quantity"):
        covered[line_id] += quantity if status == ReservationStatus.ACTIVE else consumed
    failed = sorted(
        set(
            FulfillmentOrder.objects.filter(order_id=order.pk)
            .filter(Q(status=FulfillmentStatus.REJECTED) | Q(lines__short_quantity__gt=0))
            .values_list("node__code", flat=True)
        )
    )
    last_seq = Event.objects.filter(stream=order.stream).aggregate(last=Max("seq"))["last"]
    rule_set = active_rule_set_for(order.channel_id)
    return LockedLines(
        lines=lines,
        missing={line.pk: max(0, line.live_quantity - covered[line.pk]) for line in lines},
        figures=line_figures(ids),
        failed_nodes=failed,
        last_seq=last_seq or 0,
        rule_set_id=rule_set.pk if rule_set else None,
        rule_set_updated_at=rule_set.updated_at if rule_set else None,
    )


# Rule sets never change once submitted (fulfillment/models/routing.py); which one is active
# does, and _lock_lines reads that on every routing. The row and its validated config are kept
# per process, keyed by id and checked against updated_at (every transition saves the row).
_rule_sets: dict[int, tuple[datetime, RoutingRuleSet, RuleConfig]] = {}
# The built-in defaults, for channels without an active rule set: validated once (a frozen
# model, shared as the cached rule sets' configs are) instead of on every routing.
_BUILT_IN_RULES = RuleConfig()


def _rule_set(
    rule_set_id: int | None, updated_at: datetime | None
) -> tuple[RoutingRuleSet | None, RuleConfig]:
    if rule_set_id is None or updated_at is None:
        return None, _BUILT_IN_RULES
    cached = _rule_sets.get(rule_set_id)
    if cached is None or cached[0] != updated_at:
        rule_set = RoutingRuleSet.objects.get(pk=rule_set_id)
        cached = (rule_set.updated_at, rule_set, RuleConfig.model_validate(rule_set.config))
        if len(_rule_sets) >= 64:  # only active sets are asked for: a handful, short of churn
            _rule_sets.clear()
        _rule_sets[rule_set_id] = cached
    return cached[1], cached[2]


def _without_failed_nodes(rules: RuleConfig, failed: list[str]) -> RuleConfig:
    """A node that rejected this order, or came up short on it, is not asked again."""
    if not failed:
        return rules
    excluded = sorted(set(rules.filters.excluded_nodes) | set(failed))
    return rules.model_copy(
        update={"filters": rules.filters.model_copy(update={"excluded_nodes": excluded})}
    )


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
# CandidateNode's attribute for each of NODE_FIELDS' columns (the node's id is its node_id).
_NODE_ATTRIBUTES = ("node_id", *NODE_FIELDS[1:])


def candidate_nodes(
    product_ids: list[int],
    *,
    stock_override: dict[tuple[int, int], int] | None = None,
    stock_level_ids: dict[tuple[int, int], int] | None = None,
) -> list[CandidateNode]:
    """Every node (the engine records why inactive ones are excluded) with its stock of
    `product_ids` and today's load. One statement (the nodes joined to their stock rows of
    those products) plus a cached load figure, whatever the number of nodes; rows are read as
    tuples because model instances for 200 nodes cost milliseconds, and coordinates come as
    float8 (no Decimal per row)."""
    postgres = connection.vendor == "postgresql"
    columns = ", ".join(
        f"n.{column}::float8" if postgres and name in ("latitude", "longitude") else f"n.{column}"
        for name in NODE_FIELDS
        if (column := cast(Field, Node._meta.get_field(name)).column)
    )
    # PostgreSQL: one statement text whatever the number of products; elsewhere (SQLite, make
    # run's demo) an IN list.
    # The array hidden from the planner (opaque_array): one generic plan, not one per order.
    products = (
        f"= ANY({opaque_array('bigint[]')})"
        if postgres
        else f"IN ({', '.join(['%s'] * len(product_ids))})"
    )
    # PostgreSQL: when each stock row was last reported, as whole microseconds since the epoch
    # (exact: extract() is numeric), made a datetime below by adding a timedelta; psycopg's
    # parsing of a timestamptz per row was a tenth of a 10-line route_order's CPU.
    reported_column = (
        "(extract(epoch FROM s.last_reported_at) * 1000000)::int8"
        if postgres
        else "s.last_reported_at"
    )
    sql = f"""
        SELECT {columns}, s.id, s.product_id, s.available, s.on_hand, {reported_column}
        FROM {Node._meta.db_table} n
        LEFT JOIN {StockLevel._meta.db_table} s
            ON s.node_id = n.id AND s.product_id {products}
        ORDER BY n.id, s.product_id
    """  # noqa: S608 - table and column names from models, values are parameters
    with bound_cursor(connection) as cursor:  # the same text for every order: prepared
        cursor.execute(sql, [list(product_ids)] if postgres else list(product_ids))
        rows = cursor.fetchall()
    if not postgres:  # coordinates come back as Decimal or str: the planner takes floats
        rows = [_float_coordinates(row) for row in rows]
    load = orders_routed_today_by_node()
    # 200 nodes and their stock rows per order: the frozen dataclasses' generated __init__
    # (object.__setattr__ per field) cost about a third of this function's CPU. Each instance
    # is made with object.__new__ and its __dict__ filled directly: the same objects (fields,
    # equality, hashing, immutability), as planner._report does for CandidateReport.
    new = object.__new__
    nodes: list[CandidateNode] = []
    append = nodes.append
    stock: dict[int, StockInfo] = {}
    width = len(NODE_FIELDS)
    last_node = None
    epoch, micro = _EPOCH, _MICROSECOND
    for row in rows:
        node_id = row[0]
        if node_id != last_node:
            last_node = node_id
            stock = {}
            node = new(CandidateNode)
            # The row's first columns are NODE_FIELDS, in order (zip stops at their end).
            node.__dict__.update(
                zip(_NODE_ATTRIBUTES, row, strict=False),
                capacity_used_today=load.get(node_id, 0),
                stock=stock,
            )
            append(node)
        pk, product_id, available, on_hand, reported = row[width:]
        if pk is None:
            continue
        if postgres and reported is not None:
            reported = epoch + micro * reported
        if stock_level_ids is not None:
            stock_level_ids[(node_id, product_id)] = pk
        if stock_override is not None:
            available = stock_override.get((node_id, product_id), available)
        info = new(StockInfo)
        info.__dict__.update(available=available, on_hand=on_hand, last_reported_at=reported)
        stock[product_id] = info
    return nodes


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _float_coordinates(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    for index in (4, 5):  # latitude, longitude (NODE_FIELDS order)
        if values[index] is not None:
            values[index] = float(values[index])
    return tuple(values)


# Daily capacity is a soft limit: a node's load figure may be this many seconds old. Counting
# today's reservations on every routing costs a scan that grows with the day's traffic (158 ms
# at 55,000 reservations in a day, bench database); so each process keeps, per node, the set
# of orders it took today, and every LOAD_CACHE_SECONDS adds those of the reservations made
# since its last look (an index range on created_at), looking back LOAD_OVERLAP_SECONDS more so
# a reservation committed late by a slow transaction is still seen (a set: never counted
# twice). Equal to counting the whole day, as every reservation of the day counts, whatever
# became of it. A node can overshoot its capacity by what it takes in LOAD_CACHE_SECONDS.
LOAD_CACHE_SECONDS = 5.0
LOAD_OVERLAP_SECONDS = 120.0
_load_cache: dict[str, Any] = {"at": 0.0, "day": None, "since": None, "orders": {}, "load": {}}


def orders_routed_today_by_node(now: datetime | None = None) -> dict[int, int]:
    """Distinct orders each node took since midnight UTC (its daily capacity is per order)."""
    now = now or timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    clock = time.monotonic()
    if _load_cache["day"] == midnight and clock - _load_cache["at"] < LOAD_CACHE_SECONDS:
        return _load_cache["load"]
    if _load_cache["day"] != midnight:  # a new day (or the first look): count from midnight
        _load_cache.update(day=midnight, since=midnight, orders={})
    since = max(midnight, _load_cache["since"] - timedelta(seconds=LOAD_OVERLAP_SECONDS))
    orders: dict[int, set[int]] = _load_cache["orders"]
    # Each reservation's order by its line's primary key (a subquery per row): joined, the
    # planner hashed the whole order line table for a few hundred reservations (50 ms at
    # 70,000 lines, growing with history, every LOAD_CACHE_SECONDS in every process).
    order_of_line = (
        OrderLine.objects.filter(pk=OuterRef("order_line_id")).order_by().values("order_id")
    )
    for node_id, order_id in (
        Reservation.objects.filter(
            created_at__gte=since, created_at__lt=midnight + timedelta(days=1)
        )
        .annotate(line_order_id=Subquery(order_of_line[:1]))
        .order_by()
        .values_list("node_id", "line_order_id")
    ):
        orders.setdefault(node_id, set()).add(order_id)
    load = {node_id: len(ids) for node_id, ids in orders.items()}
    _load_cache.update(at=clock, since=now, load=load)
    return load


def forget_cached_load() -> None:
    """Tests and backtests that need exact capacity figures call this first."""
    _load_cache.update(at=0.0, day=None, since=None, orders={}, load={})


def _record(
    order: Order,
    state: LockedLines,
    reserved: dict[int, int],
    taken: list[tuple[int, str, int]],
    plans: list[Plan],
    rule_set: RoutingRuleSet | None,
    trigger: str,
    elapsed_ms: float,
    actor: Actor,
    writes: StatusWrites | None = None,
) -> Routed:
    lines, missing = state.lines, state.missing
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
    decision = new_row(
        RoutingDecision,
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
    insert_rows_bound([decision])  # save(force_insert=True)'s INSERT, prepared after a few
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
            previous=_stream_tail(order, state),
        )
        return Routed(decision, None)
    allocations = _allocations(lines, taken)
    # The next event follows it: no sequence lookup.
    last_event: Event | None = _stream_tail(order, state)
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
            previous=last_event,
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
    # The lines were locked and their progress read above; what this routing added is waiting
    # at the OMS (no fulfillment order yet): the rollup needs to read neither again.
    figures = state.figures
    for line_id, quantity in reserved.items():
        figures[line_id].waiting_at_oms += quantity
    _changes, last_event = rollup_order_and_tail(
        order, lines=lines, last_event=last_event, figures=figures, writes=writes
    )
    return Routed(decision, last_event, lines, figures)


def _stream_tail(order: Order, state: LockedLines) -> Event:
    """The order stream's last event as _lock_lines read it under the order lock (only its
    stream and seq are used: record_event appends after it; a wrong one fails on the
    (stream, seq) constraint)."""
    return Event(stream=order.stream, seq=state.last_seq)


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
