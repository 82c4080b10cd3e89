"""KPI figures by day (UTC) and channel: one interface, two ways to compute them.

On PostgreSQL each query aggregates in the database and groups by GROUPING SETS ((day,
channel), (day), (channel), ()), so one round trip gives every cell the dashboard shows, and
percentiles for "all channels" or "the whole range" are exact (not averages of per-day
percentiles). On any other database (the embedded SQLite demo) the same figures come from
portable ORM queries grouped in Python (ops/kpis/portable.py); tests/ops/kpis/test_portable.py
checks that both give the same results on the same history. In the result a `None` day or
channel means "all", and the ((None, None)) cell is always there. Cohorts:

- captured, cancelled, backordered: orders by the day they were placed;
- shipped orders, order-to-ship p50/p90, split shipments: orders by the day their first
  fulfillment order shipped (FulfillmentOrder.shipped_at); split = more than one of its
  fulfillment orders shipped before the end of the range;
- on-time: fulfillment orders by the day they shipped; on time = shipped_at <= ship_by (one
  without a ship_by has no promise to break and counts as on time);
- manual touches: `order.manual_touch` events by the day they happened, per 100 orders
  captured that day.

How the PostgreSQL queries stay fast at a million orders (bench/kpi_bench.py,
docs/observability.md "Indexes and how the queries use them"): every query starts from the
range on an indexed column and reads index-only where it can. Shipping reads the range's
fulfillment orders from `fo_shipped_cover_idx` (shipped_at, order_id, ship_by) and checks "no
earlier shipment" with one probe per order into `fo_order_shipped_idx` (order_id, shipped_at),
in order_id order. Orders are joined by a hash join with the orders placed from PLACED_LOOKBACK
before the range to its end, read from `order_placed_cover_idx` (placed_at, id, channel_id,
status); an order placed outside that span (shipped long after it was placed) is looked up by
its primary key, so the figures never depend on the lookback, only the speed does. JIT is off
for these statements: compiling costs more than these queries take.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from inventory.models import Node, StockLevel
from oms.events.models import Event
from ops.kpis import portable, rollups, sources
from ops.kpis.portable import Key, percentile
from ops.models import KpiRollup
from orders.events import ORDER_BACKORDERED, ORDER_MANUAL_TOUCH
from orders.models import Channel, Order

DEFAULT_DAYS = 14
# Orders placed this long before the range are joined by a hash join; older ones by their key.
PLACED_LOOKBACK = timedelta(days=14)


def _pct(numerator: int, denominator: int) -> float | None:
    return 100.0 * numerator / denominator if denominator else None


@dataclass
class Figures:
    orders: int = 0
    cancelled: int = 0
    backordered: int = 0
    manual_touches: int = 0
    shipped_orders: int = 0
    split_orders: int = 0
    ship_p50_hours: float | None = None
    ship_p90_hours: float | None = None
    fo_shipped: int = 0
    fo_on_time: int = 0

    @property
    def cancellation_rate(self) -> float | None:
        return _pct(self.cancelled, self.orders)

    @property
    def backorder_rate(self) -> float | None:
        return _pct(self.backordered, self.orders)

    @property
    def split_rate(self) -> float | None:
        return _pct(self.split_orders, self.shipped_orders)

    @property
    def on_time_rate(self) -> float | None:
        return _pct(self.fo_on_time, self.fo_shipped)

    @property
    def touches_per_100(self) -> float | None:
        return _pct(self.manual_touches, self.orders)


@dataclass
class KpiReport:
    start: date
    end: date  # inclusive
    days: list[date]
    channels: dict[int, str]  # id → code, ordered by code
    cells: dict[Key, Figures] = field(default_factory=dict)

    def get(self, day: date | None = None, channel: int | None = None) -> Figures:
        return self.cells.get((day, channel)) or Figures()


def date_range(start: date | None = None, end: date | None = None) -> tuple[date, date]:
    end = end or timezone.now().astimezone(UTC).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, day after end 00:00 UTC)."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def in_database() -> bool:
    """True where the KPI queries aggregate in the database (PostgreSQL)."""
    return connection.vendor == "postgresql"


GROUPING = "GROUP BY GROUPING SETS ((1, 2), (1), (2), ())"
ORDERS = Order._meta.db_table
FOS = FulfillmentOrder._meta.db_table
EVENTS = Event._meta.db_table


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def orders_captured(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int]]:
    """(captured, cancelled) by placement day and channel."""
    if not in_database():
        return portable.orders_captured(t0, t1)
    sql = f"""
        SELECT (o.placed_at AT TIME ZONE 'UTC')::date, o.channel_id, count(*),
               count(*) FILTER (WHERE o.status = 'cancelled')
        FROM {ORDERS} o
        WHERE o.placed_at >= %(t0)s AND o.placed_at < %(t1)s
        {GROUPING}"""  # noqa: S608 - table names from models, values are parameters
    return {(d, c): (n, x) for d, c, n, x in _rows(sql, {"t0": t0, "t1": t1})}


def orders_backordered(t0: datetime, t1: datetime) -> dict[Key, int]:
    """Orders placed in range with an `order.backordered` event (at any time since the range
    began), by placement day and channel."""
    if not in_database():
        return portable.orders_backordered(t0, t1)
    sql = f"""
        SELECT (o.placed_at AT TIME ZONE 'UTC')::date, o.channel_id, count(DISTINCT o.id)
        FROM {EVENTS} e
        JOIN {ORDERS} o ON o.number = substr(e.stream, 7)
        WHERE e.type = %(type)s AND e.stream LIKE 'order:%%' AND e.occurred_at >= %(t0)s
              AND o.placed_at >= %(t0)s AND o.placed_at < %(t1)s
        {GROUPING}"""  # noqa: S608
    return {(d, c): n for d, c, n in _rows(sql, {"type": ORDER_BACKORDERED, "t0": t0, "t1": t1})}


def manual_touches(t0: datetime, t1: datetime) -> dict[Key, int]:
    """`order.manual_touch` events in range by the day they happened and the order's channel."""
    if not in_database():
        return portable.manual_touches(t0, t1)
    sql = f"""
        SELECT (e.occurred_at AT TIME ZONE 'UTC')::date, o.channel_id, count(*)
        FROM {EVENTS} e
        JOIN {ORDERS} o ON o.number = substr(e.stream, 7)
        WHERE e.type = %(type)s AND e.stream LIKE 'order:%%'
              AND e.occurred_at >= %(t0)s AND e.occurred_at < %(t1)s
        {GROUPING}"""  # noqa: S608
    return {(d, c): n for d, c, n in _rows(sql, {"type": ORDER_MANUAL_TOUCH, "t0": t0, "t1": t1})}


def _order_column(column: str, order_id: str) -> str:
    """The order's column from the recent orders joined as `r`, else by primary key."""
    return f"""coalesce(r.{column},
        (SELECT o.{column} FROM {ORDERS} o WHERE o.id = {order_id}))"""  # noqa: S608


def order_shipping(
    t0: datetime, t1: datetime
) -> dict[Key, tuple[int, int, float | None, float | None]]:
    """(shipped orders, split orders, p50 hours, p90 hours) by first-ship day and channel.

    An order first shipped in the range has a fulfillment order shipped in it and none before
    it; all its fulfillment orders shipped before the end are then in the range."""
    if not in_database():
        return portable.order_shipping(t0, t1)
    sql = f"""
        WITH shipped AS MATERIALIZED (  -- sorted, so the probes below walk the index in order
            SELECT order_id, min(shipped_at) AS first_ship, count(*) AS shipped_fos
            FROM {FOS}
            WHERE shipped_at >= %(t0)s AND shipped_at < %(t1)s
            GROUP BY order_id
            ORDER BY order_id
        ), firsts AS MATERIALIZED (
            SELECT s.* FROM shipped s
            WHERE NOT EXISTS (
                SELECT 1 FROM {FOS} e WHERE e.order_id = s.order_id AND e.shipped_at < %(t0)s)
        ), timed AS (
            SELECT (p.first_ship AT TIME ZONE 'UTC')::date AS day,
                   {_order_column("channel_id", "p.order_id")} AS channel_id,
                   p.shipped_fos,
                   extract(epoch FROM p.first_ship - {_order_column("placed_at", "p.order_id")})
                       ::float8 AS seconds
            FROM firsts p
            LEFT JOIN {ORDERS} r
                   ON r.id = p.order_id AND r.placed_at >= %(lookback)s AND r.placed_at < %(t1)s
        )
        SELECT day, channel_id, count(*), count(*) FILTER (WHERE shipped_fos > 1),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) / 3600,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) / 3600
        FROM timed
        {GROUPING}"""  # noqa: S608
    params = {"t0": t0, "t1": t1, "lookback": t0 - PLACED_LOOKBACK}
    return {(d, c): (n, s, p50, p90) for d, c, n, s, p50, p90 in _rows(sql, params)}


def on_time_shipping(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int]]:
    """(fulfillment orders shipped, of which on time) by ship day and channel."""
    if not in_database():
        return portable.on_time_shipping(t0, t1)
    sql = f"""
        SELECT day, channel_id, count(*), count(*) FILTER (WHERE on_time)
        FROM (
            SELECT (f.shipped_at AT TIME ZONE 'UTC')::date AS day,
                   {_order_column("channel_id", "f.order_id")} AS channel_id,
                   f.ship_by IS NULL OR f.shipped_at <= f.ship_by AS on_time
            FROM {FOS} f
            LEFT JOIN {ORDERS} r
                   ON r.id = f.order_id AND r.placed_at >= %(lookback)s AND r.placed_at < %(t1)s
            WHERE f.shipped_at >= %(t0)s AND f.shipped_at < %(t1)s
        ) s
        {GROUPING}"""  # noqa: S608
    params = {"t0": t0, "t1": t1, "lookback": t0 - PLACED_LOOKBACK}
    return {(d, c): (n, ok) for d, c, n, ok in _rows(sql, params)}


def _empty_report(start: date, end: date) -> KpiReport:
    return KpiReport(
        start=start,
        end=end,
        days=[start + timedelta(days=i) for i in range((end - start).days + 1)],
        channels=dict(Channel.objects.order_by("code").values_list("id", "code")),
    )


def kpi_report(start: date | None = None, end: date | None = None) -> KpiReport:
    """The report from the daily rollups (ops/kpis/rollups.py): stored rows for the past days
    computed, the day's own rows for today. Cell for cell what kpi_report_raw() gives."""
    start, end = date_range(start, end)
    report = _empty_report(start, end)
    report.cells = rollup_cells(rollups.report_rows(start, end), *bounds(start, end))
    return report


def rollup_cells(rows: list[KpiRollup], t0: datetime, t1: datetime) -> dict[Key, Figures]:
    """The cells of a range [t0, t1) from its days' rollup rows, grouped as GROUPING SETS
    groups them; a cell is there when the raw queries would return it (something counted)."""
    start, end = rollups.micros(t0), rollups.micros(t1)
    cells: dict[Key, Figures] = {}
    groups = portable.grouping_sets((r.day, r.channel_id, r) for r in rows)
    for key, items in groups.items():
        seconds = sorted(s for r in items for s in r.ship_seconds)
        p50, p90 = percentile(seconds, 0.5), percentile(seconds, 0.9)
        figures = Figures(
            orders=sum(r.orders for r in items),
            cancelled=sum(r.cancelled for r in items),
            backordered=sum(r.backordered for r in items)
            + sum(1 for r in items for at in r.backordered_before if at >= start),
            manual_touches=sum(r.manual_touches for r in items),
            shipped_orders=sum(r.shipped_orders for r in items),
            split_orders=sum(1 for r in items for at in r.second_ship_epochs if at < end),
            ship_p50_hours=None if p50 is None else p50 / 3600,
            ship_p90_hours=None if p90 is None else p90 / 3600,
            fo_shipped=sum(r.fo_shipped for r in items),
            fo_on_time=sum(r.fo_on_time for r in items),
        )
        counted = figures.orders or figures.manual_touches or figures.shipped_orders
        if key == (None, None) or counted or figures.fo_shipped:
            cells[key] = figures
    return cells


def kpi_report_raw(start: date | None = None, end: date | None = None) -> KpiReport:
    """The report from the raw rows of the whole range (the five queries above): what the
    rollups must equal (tests/ops/kpis/test_rollups.py); its cost grows with the range."""
    start, end = date_range(start, end)
    t0, t1 = bounds(start, end)
    report = _empty_report(start, end)
    cells: dict[Key, Figures] = defaultdict(Figures)
    for key, (n, cancelled) in orders_captured(t0, t1).items():
        cells[key].orders, cells[key].cancelled = n, cancelled
    for key, n in orders_backordered(t0, t1).items():
        cells[key].backordered = n
    for key, n in manual_touches(t0, t1).items():
        cells[key].manual_touches = n
    for key, (n, split, p50, p90) in order_shipping(t0, t1).items():
        cell = cells[key]
        cell.shipped_orders, cell.split_orders = n, split
        cell.ship_p50_hours, cell.ship_p90_hours = p50, p90
    for key, (n, ok) in on_time_shipping(t0, t1).items():
        cells[key].fo_shipped, cells[key].fo_on_time = n, ok
    report.cells = dict(cells)
    return report


@dataclass(frozen=True)
class FeedLag:
    node: str
    name: str
    last_reported_at: datetime | None
    lag_hours: float | None


def inventory_feed_lag(now: datetime | None = None) -> list[FeedLag]:
    """Per active node: now − the latest StockLevel.last_reported_at, stalest first (a node
    that never reported comes first)."""
    now = now or timezone.now()
    latest = (
        StockLevel.objects.filter(node=OuterRef("pk"))
        .order_by()
        .values("node")
        .annotate(last=Max("last_reported_at"))
        .values("last")
    )
    rows = (
        Node.objects.filter(is_active=True)
        .annotate(last=Subquery(latest))
        .order_by("code")
        .values_list("code", "name", "last")
    )
    lags = [
        FeedLag(code, name, last, (now - last).total_seconds() / 3600 if last else None)
        for code, name, last in rows
    ]
    return sorted(lags, key=lambda lag: (lag.lag_hours is not None, -(lag.lag_hours or 0)))


def exception_figures(start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """Open cases by queue and SLA state, and resolution time p50/p90 of the cases resolved
    in the range."""
    counts = sources.open_exception_counts(now)
    t0, t1 = bounds(start, end)
    hours = sources.exception_resolution_hours(t0, t1)
    queues: dict[str, dict[str, int]] = defaultdict(lambda: {"breached": 0, "within": 0})
    for (queue, state), n in counts.items():
        queues[queue][state] += n
    return {
        "queues": dict(sorted(queues.items())),
        "open_total": sum(counts.values()),
        "breached_total": sum(n for (_, s), n in counts.items() if s == "breached"),
        "resolved": len(hours),
        "resolution_p50_hours": percentile(hours, 0.5),
        "resolution_p90_hours": percentile(hours, 0.9),
    }


def webhook_figures(start: date, end: date) -> dict[str, Any]:
    t0, t1 = bounds(start, end)
    return sources.webhook_summary(t0, t1)
