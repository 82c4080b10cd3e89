"""KPI queries, aggregated in PostgreSQL by day (UTC) and channel.

Each query groups by GROUPING SETS ((day, channel), (day), (channel), ()), so one round trip
gives every cell the dashboard shows, and percentiles for "all channels" or "the whole range"
are exact (not averages of per-day percentiles). In the result a `None` day or channel means
"all". Cohorts:

- captured, cancelled, backordered: orders by the day they were placed;
- shipped orders, order-to-ship p50/p90, split shipments: orders by the day their first
  fulfillment order shipped (FulfillmentOrder.shipped_at); split = more than one of its
  fulfillment orders has shipped;
- on-time: fulfillment orders by the day they shipped; on time = shipped_at <= ship_by (one
  without a ship_by has no promise to break and counts as on time);
- manual touches: `order.manual_touch` events by the day they happened (0 when the type is not
  registered), per 100 orders captured that day.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from inventory.models import Node, StockLevel
from oms.events.models import Event
from oms.kpis import sources
from orders.models import Channel, Order

DEFAULT_DAYS = 14
Key = tuple[date | None, int | None]


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
    manual_touch_registered: bool = False

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


GROUPING = "GROUP BY GROUPING SETS ((1, 2), (1), (2), ())"


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def orders_captured(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int]]:
    """(captured, cancelled) by placement day and channel."""
    sql = f"""
        SELECT (o.placed_at AT TIME ZONE 'UTC')::date, o.channel_id, count(*),
               count(*) FILTER (WHERE o.status = 'cancelled')
        FROM {Order._meta.db_table} o
        WHERE o.placed_at >= %s AND o.placed_at < %s
        {GROUPING}"""  # noqa: S608 - table names from models, values are parameters
    return {(d, c): (n, x) for d, c, n, x in _rows(sql, [t0, t1])}


def _orders_with_event(event_type: str, t0: datetime, t1: datetime, *, by_event_day: bool):
    """Orders (distinct) placed in range with an event of the type, by placement day; or
    events of the type counted by the day they happened."""
    day = "e.occurred_at" if by_event_day else "o.placed_at"
    measure = "count(*)" if by_event_day else "count(DISTINCT o.id)"
    placed = "" if by_event_day else "AND o.placed_at >= %s AND o.placed_at < %s"
    sql = f"""
        SELECT ({day} AT TIME ZONE 'UTC')::date, o.channel_id, {measure}
        FROM {Event._meta.db_table} e
        JOIN {Order._meta.db_table} o ON o.number = substr(e.stream, 7)
        WHERE e.type = %s AND e.stream LIKE 'order:%%' AND e.occurred_at >= %s
              {"AND e.occurred_at < %s" if by_event_day else ""} {placed}
        {GROUPING}"""  # noqa: S608
    params: list[Any] = [event_type, t0, t1] if by_event_day else [event_type, t0, t0, t1]
    return {(d, c): n for d, c, n in _rows(sql, params)}


def orders_backordered(t0: datetime, t1: datetime) -> dict[Key, int]:
    return _orders_with_event("order.backordered", t0, t1, by_event_day=False)


def manual_touches(t0: datetime, t1: datetime) -> dict[Key, int]:
    if not sources.manual_touch_registered():
        return {}
    return _orders_with_event(sources.MANUAL_TOUCH, t0, t1, by_event_day=True)


def order_shipping(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int, float, float]]:
    """(shipped orders, split orders, p50 hours, p90 hours) by first-ship day and channel."""
    fo = FulfillmentOrder._meta.db_table
    sql = f"""
        WITH candidates AS (
            SELECT DISTINCT order_id FROM {fo}
            WHERE shipped_at >= %s AND shipped_at < %s
        ), per_order AS (
            SELECT f.order_id, min(f.shipped_at) AS first_ship, count(*) AS shipped_fos
            FROM {fo} f JOIN candidates c ON c.order_id = f.order_id
            WHERE f.shipped_at IS NOT NULL AND f.shipped_at < %s
            GROUP BY f.order_id
        )
        SELECT (p.first_ship AT TIME ZONE 'UTC')::date, o.channel_id, count(*),
               count(*) FILTER (WHERE p.shipped_fos > 1),
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM p.first_ship - o.placed_at)) / 3600,
               percentile_cont(0.9) WITHIN GROUP (
                   ORDER BY extract(epoch FROM p.first_ship - o.placed_at)) / 3600
        FROM per_order p JOIN {Order._meta.db_table} o ON o.id = p.order_id
        WHERE p.first_ship >= %s
        {GROUPING}"""  # noqa: S608
    return {(d, c): (n, s, p50, p90) for d, c, n, s, p50, p90 in _rows(sql, [t0, t1, t1, t0])}


def on_time_shipping(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int]]:
    """(fulfillment orders shipped, of which on time) by ship day and channel."""
    sql = f"""
        SELECT (f.shipped_at AT TIME ZONE 'UTC')::date, o.channel_id, count(*),
               count(*) FILTER (WHERE f.ship_by IS NULL OR f.shipped_at <= f.ship_by)
        FROM {FulfillmentOrder._meta.db_table} f
        JOIN {Order._meta.db_table} o ON o.id = f.order_id
        WHERE f.shipped_at >= %s AND f.shipped_at < %s
        {GROUPING}"""  # noqa: S608
    return {(d, c): (n, ok) for d, c, n, ok in _rows(sql, [t0, t1])}


def kpi_report(start: date | None = None, end: date | None = None) -> KpiReport:
    start, end = date_range(start, end)
    t0, t1 = bounds(start, end)
    channels = dict(Channel.objects.order_by("code").values_list("id", "code"))
    report = KpiReport(
        start=start,
        end=end,
        days=[start + timedelta(days=i) for i in range((end - start).days + 1)],
        channels=channels,
        manual_touch_registered=sources.manual_touch_registered(),
    )
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
    sl = StockLevel._meta.db_table
    sql = f"""
        SELECT n.code, n.name,
               (SELECT max(s.last_reported_at) FROM {sl} s WHERE s.node_id = n.id)
        FROM {Node._meta.db_table} n WHERE n.is_active ORDER BY n.code"""  # noqa: S608
    lags = [
        FeedLag(code, name, last, (now - last).total_seconds() / 3600 if last else None)
        for code, name, last in _rows(sql, [])
    ]
    return sorted(lags, key=lambda lag: (lag.lag_hours is not None, -(lag.lag_hours or 0)))


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (as PostgreSQL's percentile_cont) of sorted values."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def exception_figures(start: date, end: date) -> dict[str, Any] | None:
    """Open cases by queue and SLA state, and resolution time p50/p90 in the range; None when
    the exception console is not installed."""
    counts = sources.open_exception_counts()
    if counts is None:
        return None
    t0, t1 = bounds(start, end)
    hours = sources.exception_resolution_hours(t0, t1) or []
    queues: dict[str, dict[str, int]] = defaultdict(lambda: {"breached": 0, "within": 0, "none": 0})
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


def webhook_figures(start: date, end: date) -> dict[str, Any] | None:
    t0, t1 = bounds(start, end)
    return sources.webhook_summary(t0, t1)
