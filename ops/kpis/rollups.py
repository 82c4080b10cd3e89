"""Daily KPI rollups: the order KPIs of each past UTC day and channel, pre-aggregated so the
dashboard's cost does not grow with history (docs/adr/0015-kpi-daily-rollups.md).

`day_rows(day)` computes one day's rows from the orders, fulfillment orders and events
themselves (portable ORM queries, grouped in Python: it reads one day, a few thousand rows at a
million orders a year). `rebuild()` stores them (`ops.KpiRollup`, one row per day and channel,
and `ops.KpiRollupDay` saying the day is computed); it is idempotent: a day is deleted and
written again in one transaction. `refresh()` is the beat task's body: it rebuilds the days the
events recorded since its last run change (an order cancelled weeks after it was placed, a
second shipment, history imported at source times) and any recent day not yet computed.

`report_rows(start, end)` gives the rows of a range: stored rows for the computed days before
today, `day_rows()` for today and any day not computed. ops/kpis/selectors.py turns them into
the same cells the raw queries give (tests/ops/kpis/test_rollups.py compares them).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from oms.events.models import Event
from ops.models import KpiRollup, KpiRollupCursor, KpiRollupDay
from orders.events import ORDER_BACKORDERED, ORDER_MANUAL_TOUCH
from orders.models import Order, stream_for_order

ORDER_STREAM = stream_for_order("")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK = 500  # values per IN (...) list; SQLite allows a few thousand parameters
RECENT_DAYS = 14  # the dashboard's default range: refresh() computes any of them missing


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, so comparisons with a range's bounds are too."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _chunks[T](items: Iterable[T]) -> Iterator[list[T]]:
    items = list(items)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


ORDERS, FOS, EVENTS = Order._meta.db_table, FulfillmentOrder._meta.db_table, Event._meta.db_table
MICROS = "(extract(epoch FROM {}) * 1000000)::bigint"  # exact: extract gives numeric
DAY_SQL = f"""
WITH placed AS (
    SELECT id, number, channel_id, status FROM {ORDERS}
    WHERE placed_at >= %(t0)s AND placed_at < %(t1)s
), captured AS (
    SELECT channel_id, count(*) AS n, count(*) FILTER (WHERE status = 'cancelled') AS x
    FROM placed GROUP BY 1
), backorders AS (
    SELECT p.channel_id, max(e.occurred_at) AS at
    FROM placed p JOIN {EVENTS} e ON e.stream = %(prefix)s || p.number AND e.type = %(backordered)s
    GROUP BY p.id, p.channel_id
), backordered AS (
    SELECT channel_id, count(*) FILTER (WHERE at >= %(t0)s) AS n,
           array_agg({MICROS.format("at")}) FILTER (WHERE at < %(t0)s) AS before
    FROM backorders GROUP BY 1
), touches AS (
    SELECT o.channel_id, count(*) AS n
    FROM {EVENTS} e JOIN {ORDERS} o ON o.number = substr(e.stream, %(after_prefix)s)
    WHERE e.type = %(touch)s AND e.stream LIKE %(prefix_like)s
          AND e.occurred_at >= %(t0)s AND e.occurred_at < %(t1)s
    GROUP BY 1
), fos AS MATERIALIZED (
    SELECT order_id, shipped_at, ship_by FROM {FOS}
    WHERE shipped_at >= %(t0)s AND shipped_at < %(t1)s
), on_time AS (
    SELECT o.channel_id, count(*) AS n,
           count(*) FILTER (WHERE f.ship_by IS NULL OR f.shipped_at <= f.ship_by) AS ok
    FROM fos f JOIN {ORDERS} o ON o.id = f.order_id GROUP BY 1
), firsts AS (
    SELECT o.id, o.channel_id, o.placed_at, s.times
    FROM (SELECT DISTINCT order_id FROM fos) d
    JOIN {ORDERS} o ON o.id = d.order_id
    CROSS JOIN LATERAL (
        SELECT array_agg(g.shipped_at ORDER BY g.shipped_at) AS times FROM {FOS} g
        WHERE g.order_id = d.order_id AND g.shipped_at IS NOT NULL) s
    WHERE s.times[1] >= %(t0)s
), shipping AS (
    SELECT channel_id, count(*) AS n,
           array_agg(extract(epoch FROM times[1] - placed_at)::float8 ORDER BY id) AS seconds,
           array_agg({MICROS.format("times[2]")} ORDER BY id) FILTER (WHERE cardinality(times) > 1)
               AS seconds2
    FROM firsts GROUP BY 1
), channels AS (
    SELECT channel_id FROM captured UNION SELECT channel_id FROM touches
    UNION SELECT channel_id FROM on_time
)
SELECT c.channel_id, coalesce(cp.n, 0), coalesce(cp.x, 0), coalesce(b.n, 0),
       coalesce(b.before, '{{}}'), coalesce(t.n, 0), coalesce(s.n, 0), coalesce(s.seconds, '{{}}'),
       coalesce(s.seconds2, '{{}}'), coalesce(ot.n, 0), coalesce(ot.ok, 0)
FROM channels c
LEFT JOIN captured cp USING (channel_id) LEFT JOIN backordered b USING (channel_id)
LEFT JOIN touches t USING (channel_id) LEFT JOIN shipping s USING (channel_id)
LEFT JOIN on_time ot USING (channel_id)
ORDER BY c.channel_id
"""  # noqa: S608 - table names from models, values are parameters


def day_rows(day: date) -> list[KpiRollup]:
    """The day's rollup rows (unsaved), one per channel with anything that day: one statement
    on PostgreSQL, portable queries grouped in Python elsewhere (the same rows, tested)."""
    if connection.vendor != "postgresql":
        return portable_day_rows(day)
    t0, t1 = day_bounds(day)
    params = {
        "t0": t0,
        "t1": t1,
        "prefix": ORDER_STREAM,
        "prefix_like": ORDER_STREAM + "%",
        "after_prefix": len(ORDER_STREAM) + 1,
        "backordered": ORDER_BACKORDERED,
        "touch": ORDER_MANUAL_TOUCH,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(DAY_SQL, params)
        return [
            KpiRollup(
                day=day,
                channel_id=channel,
                orders=orders,
                cancelled=cancelled,
                backordered=backordered,
                backordered_before=sorted(before),
                manual_touches=touches,
                shipped_orders=shipped,
                ship_seconds=list(seconds),
                second_ship_epochs=list(seconds2),
                fo_shipped=fo_shipped,
                fo_on_time=fo_on_time,
            )
            for (
                channel,
                orders,
                cancelled,
                backordered,
                before,
                touches,
                shipped,
                seconds,
                seconds2,
                fo_shipped,
                fo_on_time,
            ) in cursor.fetchall()
        ]


def portable_day_rows(day: date) -> list[KpiRollup]:
    """day_rows() with portable ORM queries, grouped in Python."""
    t0, t1 = day_bounds(day)
    rows: dict[int, KpiRollup] = {}

    def row(channel: int) -> KpiRollup:
        if channel not in rows:
            rows[channel] = KpiRollup(
                day=day,
                channel_id=channel,
                backordered_before=[],
                ship_seconds=[],
                second_ship_epochs=[],
            )
        return rows[channel]

    # Captured and cancelled, by the day placed.
    placed = (
        Order.objects.filter(placed_at__gte=t0, placed_at__lt=t1)
        .order_by()
        .values_list("number", "channel_id", "status")
    )
    channel_of: dict[str, int] = {}
    for number, channel, status in placed:
        channel_of[number] = channel
        cell = row(channel)
        cell.orders += 1
        cell.cancelled += status == "cancelled"

    # Backordered: orders placed that day with an `order.backordered` event. A range counts
    # one when its latest such event is at or after the range's start (selectors), so one whose
    # event is older than the day keeps that event's time.
    start = micros(t0)
    for chunk in _chunks(stream_for_order(n) for n in channel_of):
        latest = (
            Event.objects.filter(type=ORDER_BACKORDERED, stream__in=chunk)
            .order_by()
            .values("stream")
            .annotate(at=Max("occurred_at"))
            .values_list("stream", "at")
        )
        for stream, at in latest:
            cell = row(channel_of[stream.removeprefix(ORDER_STREAM)])
            if micros(at) >= start:
                cell.backordered += 1
            else:
                cell.backordered_before.append(micros(at))

    # Manual touches, by the day they happened, in the order's channel.
    touched = [
        stream.removeprefix(ORDER_STREAM)
        for stream in Event.objects.filter(
            type=ORDER_MANUAL_TOUCH, occurred_at__gte=t0, occurred_at__lt=t1
        )
        .order_by()
        .values_list("stream", flat=True)
        if stream.startswith(ORDER_STREAM)
    ]
    touch_channel: dict[str, int] = {}
    for chunk in _chunks(set(touched)):
        touch_channel.update(
            Order.objects.filter(number__in=chunk).order_by().values_list("number", "channel_id")
        )
    for number in touched:
        if number in touch_channel:
            row(touch_channel[number]).manual_touches += 1

    # Shipping: fulfillment orders shipped that day (on time or not), and the orders whose
    # first shipment ever was that day (time from placement, and when the second one shipped).
    shipped = list(
        FulfillmentOrder.objects.filter(shipped_at__gte=t0, shipped_at__lt=t1)
        .order_by()
        .values_list("order_id", "shipped_at", "ship_by")
    )
    order_ids = {order_id for order_id, _, _ in shipped}
    orders: dict[int, tuple[int, datetime]] = {}
    shipments: dict[int, list[datetime]] = defaultdict(list)
    for chunk in _chunks(order_ids):
        for pk, channel, placed_at in (
            Order.objects.filter(id__in=chunk)
            .order_by()
            .values_list("id", "channel_id", "placed_at")
        ):
            orders[pk] = (channel, placed_at)
        for order_id, shipped_at in (
            FulfillmentOrder.objects.filter(order_id__in=chunk, shipped_at__isnull=False)
            .order_by()
            .values_list("order_id", "shipped_at")
        ):
            shipments[order_id].append(shipped_at)
    for order_id, shipped_at, ship_by in shipped:
        cell = row(orders[order_id][0])
        cell.fo_shipped += 1
        cell.fo_on_time += ship_by is None or shipped_at <= ship_by
    for order_id in sorted(order_ids):
        times = sorted(shipments[order_id])
        if not t0 <= times[0] < t1:
            continue  # first shipped on an earlier day
        channel, placed_at = orders[order_id]
        cell = row(channel)
        cell.shipped_orders += 1
        cell.ship_seconds.append((times[0] - placed_at).total_seconds())
        if len(times) > 1:
            cell.second_ship_epochs.append(micros(times[1]))
    for cell in rows.values():
        cell.backordered_before.sort()
    return [rows[channel] for channel in sorted(rows)]


def rebuild_day(day: date) -> list[KpiRollup]:
    """Compute and store one day's rows, replacing what was stored (idempotent)."""
    with transaction.atomic():
        # The day's marker row, locked: two rebuilds of one day take turns.
        marker, _ = KpiRollupDay.objects.select_for_update(of=("self",)).get_or_create(
            day=day, defaults={"computed_at": timezone.now()}
        )
        rows = day_rows(day)
        KpiRollup.objects.filter(day=day).delete()
        KpiRollup.objects.bulk_create(rows)
        marker.computed_at = timezone.now()
        marker.save(update_fields=["computed_at"])
    return rows


def rebuild(start: date, end: date) -> list[date]:
    """Rebuild every day from start to end (inclusive) before today; returns the days done."""
    last = min(end, today() - timedelta(days=1))
    days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
    for day in days:
        rebuild_day(day)
    return days


def changed_days(after_event_id: int, up_to_event_id: int) -> set[date]:
    """Days whose rollups the events in (after, up to] may change: the day each happened on
    (manual touches), and for each order stream the order's placement day and the days its
    fulfillment orders shipped (cancellations, backorders, first and second shipments)."""
    days: set[date] = set()
    numbers: set[str] = set()
    events = (
        Event.objects.filter(id__gt=after_event_id, id__lte=up_to_event_id)
        .order_by()
        .values_list("stream", "occurred_at")
    )
    for stream, occurred_at in events.iterator(chunk_size=2000):
        days.add(occurred_at.astimezone(UTC).date())
        if stream.startswith(ORDER_STREAM):
            numbers.add(stream.removeprefix(ORDER_STREAM))
    for chunk in _chunks(numbers):
        ids = []
        for pk, placed_at in Order.objects.filter(number__in=chunk).values_list("id", "placed_at"):
            ids.append(pk)
            days.add(placed_at.astimezone(UTC).date())
        days.update(
            shipped_at.astimezone(UTC).date()
            for shipped_at in FulfillmentOrder.objects.filter(
                order_id__in=ids, shipped_at__isnull=False
            ).values_list("shipped_at", flat=True)
        )
    return days


def refresh(recent_days: int = RECENT_DAYS) -> dict[str, int]:
    """The beat task: rebuild the past days changed by the events recorded since the run
    before the last one, and any of the last `recent_days` days not computed yet.

    The first run starts the cursor at the newest event without scanning the log: history
    older than that (or imported in bulk) is computed with `manage.py rebuild_kpi_rollups`."""
    with transaction.atomic():
        cursor, created = KpiRollupCursor.objects.select_for_update(of=("self",)).get_or_create(
            pk=1
        )
        top = Event.objects.aggregate(top=Max("id"))["top"] or 0
        current = today()
        days = set() if created else changed_days(cursor.previous_event_id, top)
        computed = set(
            KpiRollupDay.objects.filter(
                day__gte=current - timedelta(days=recent_days), day__lt=current
            ).values_list("day", flat=True)
        )
        days.update(
            current - timedelta(days=i)
            for i in range(1, recent_days + 1)
            if current - timedelta(days=i) not in computed
        )
        done = sorted(day for day in days if day < current)
        for day in done:
            rebuild_day(day)
        cursor.previous_event_id = cursor.last_event_id if not created else top
        cursor.last_event_id = top
        cursor.refreshed_at = timezone.now()
        cursor.save()
    return {"days": len(done), "event_id": top}


def report_rows(start: date, end: date) -> list[KpiRollup]:
    """The rows of every day from start to end: stored for the computed days before today,
    computed now for the others (today, a day not computed yet, the future)."""
    current = today()
    computed = set(
        KpiRollupDay.objects.filter(day__gte=start, day__lte=end, day__lt=current).values_list(
            "day", flat=True
        )
    )
    rows = list(KpiRollup.objects.filter(day__in=computed).order_by())
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        if day not in computed:
            rows.extend(day_rows(day))
    return rows
