"""The order KPIs from portable ORM queries, grouped (and percentiles taken) in Python.

ops/kpis/selectors.py uses these where the database is not PostgreSQL (the embedded SQLite demo,
tens of orders): the same cohorts and the same results as its SQL, cell for cell, including the
((None, None)) cell that GROUPING SETS always returns. Every row of the range is read into
Python, so this is for small histories; tests/ops/kpis/test_portable.py runs both on the same
history and compares them.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr

from fulfillment.models import FulfillmentOrder
from oms.events.models import Event
from orders.events import ORDER_BACKORDERED, ORDER_MANUAL_TOUCH
from orders.models import Order

Key = tuple[date | None, int | None]
ORDER_STREAM = "order:"


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile of sorted values, computed as PostgreSQL's
    percentile_cont computes it (same operations in the same order, so the same float)."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def utc_day(moment: datetime) -> date:
    """As `(moment AT TIME ZONE 'UTC')::date`."""
    return moment.astimezone(UTC).date()


def grouping_sets[T](items: Iterable[tuple[date, int, T]]) -> dict[Key, list[T]]:
    """Items by (day, channel), (day, all), (all, channel) and (all, all); the last is there
    even without items, as in GROUPING SETS ((1, 2), (1), (2), ())."""
    groups: dict[Key, list[T]] = {(None, None): []}
    for day, channel, item in items:
        for key in ((day, channel), (day, None), (None, channel), (None, None)):
            groups.setdefault(key, []).append(item)
    return groups


def _order_events(event_type: str):
    """Events of the type in order streams, annotated with the order number."""
    return (
        Event.objects.annotate(prefix=Substr("stream", 1, len(ORDER_STREAM)))
        .filter(type=event_type, prefix=ORDER_STREAM)
        .annotate(number=Substr("stream", len(ORDER_STREAM) + 1))
        .order_by()
    )


def orders_captured(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int]]:
    rows = (
        Order.objects.filter(placed_at__gte=t0, placed_at__lt=t1)
        .order_by()
        .values_list("placed_at", "channel_id", "status")
    )
    groups = grouping_sets(
        (utc_day(placed), ch, status == "cancelled") for placed, ch, status in rows
    )
    return {key: (len(flags), sum(flags)) for key, flags in groups.items()}


def orders_backordered(t0: datetime, t1: datetime) -> dict[Key, int]:
    numbers = _order_events(ORDER_BACKORDERED).filter(occurred_at__gte=t0).values("number")
    rows = (
        Order.objects.filter(placed_at__gte=t0, placed_at__lt=t1, number__in=numbers)
        .order_by()
        .values_list("placed_at", "channel_id")
    )
    groups = grouping_sets((utc_day(placed), channel, None) for placed, channel in rows)
    return {key: len(orders) for key, orders in groups.items()}


def manual_touches(t0: datetime, t1: datetime) -> dict[Key, int]:
    channel = Order.objects.filter(number=OuterRef("number")).values("channel_id")[:1]
    rows = (
        _order_events(ORDER_MANUAL_TOUCH)
        .filter(occurred_at__gte=t0, occurred_at__lt=t1)
        .annotate(channel=Subquery(channel))
        .filter(channel__isnull=False)
        .values_list("occurred_at", "channel")
    )
    groups = grouping_sets((utc_day(at), channel, None) for at, channel in rows)
    return {key: len(events) for key, events in groups.items()}


def order_shipping(
    t0: datetime, t1: datetime
) -> dict[Key, tuple[int, int, float | None, float | None]]:
    in_range = FulfillmentOrder.objects.filter(shipped_at__gte=t0, shipped_at__lt=t1).order_by()
    shipments: dict[int, list[datetime]] = defaultdict(list)
    for order_id, shipped_at in in_range.values_list("order_id", "shipped_at"):
        shipments[order_id].append(shipped_at)
    order_ids = in_range.values("order_id")
    shipped_before = set(
        FulfillmentOrder.objects.filter(order_id__in=order_ids, shipped_at__lt=t0)
        .order_by()
        .values_list("order_id", flat=True)
    )
    orders = {
        pk: (channel, placed)
        for pk, channel, placed in Order.objects.filter(id__in=order_ids)
        .order_by()
        .values_list("id", "channel_id", "placed_at")
    }
    firsts = []
    for order_id, times in shipments.items():
        if order_id in shipped_before:
            continue
        channel, placed = orders[order_id]
        first = min(times)
        firsts.append((utc_day(first), channel, (len(times), (first - placed).total_seconds())))
    result: dict[Key, tuple[int, int, float | None, float | None]] = {}
    for key, shipped in grouping_sets(firsts).items():
        seconds = sorted(s for _, s in shipped)
        p50, p90 = percentile(seconds, 0.5), percentile(seconds, 0.9)
        result[key] = (
            len(shipped),
            sum(1 for fos, _ in shipped if fos > 1),
            None if p50 is None else p50 / 3600,
            None if p90 is None else p90 / 3600,
        )
    return result


def on_time_shipping(t0: datetime, t1: datetime) -> dict[Key, tuple[int, int]]:
    rows = (
        FulfillmentOrder.objects.filter(shipped_at__gte=t0, shipped_at__lt=t1)
        .order_by()
        .values_list("shipped_at", "ship_by", "order__channel_id")
    )
    groups = grouping_sets(
        (utc_day(shipped), channel, ship_by is None or shipped <= ship_by)
        for shipped, ship_by, channel in rows
    )
    return {key: (len(flags), sum(flags)) for key, flags in groups.items()}
