"""The two ways the KPI selectors compute (PostgreSQL aggregates, and portable ORM queries grouped
in Python for the SQLite demo) give the same figures, cell for cell, on the same generated
history: every query, whole reports and the dashboard built from them.

The history (seeded, so every run is the same) has what the SQL has to get right: orders placed
long before the range that first ship in it (looked up by key, past PLACED_LOOKBACK), orders
placed after the range, fulfillment orders shipped before, in and after the range (split orders
that straddle its start or end), no ship-by, shipped exactly at the ship-by or at the range's
start or end, cancelled orders, backorder and manual-touch events before, in and after the range,
touches on streams that are not an order's, and timestamps with microseconds near midnight.
"""

import random
from datetime import date, datetime, timedelta

import pytest

from fulfillment.models import FulfillmentOrder
from oms.events.models import Event
from ops.kpis import dashboard, portable, selectors
from orders.models import Order
from tests.factories.inventory import NodeFactory
from tests.factories.orders import ChannelFactory

pytestmark = pytest.mark.django_db

END = date(2026, 3, 1)
START = END - timedelta(days=13)
T0, T1 = selectors.bounds(START, END)
RANGES = [
    (START, END),  # the dashboard's 14 days
    (END, END),  # one day
    (END - timedelta(days=40), END + timedelta(days=5)),  # the whole history and after it
    (date(2025, 1, 1), date(2025, 1, 14)),  # before any history
]
QUERIES = [
    "orders_captured",
    "orders_backordered",
    "manual_touches",
    "order_shipping",
    "on_time_shipping",
]


def _moment(rng: random.Random, low: datetime, high: datetime) -> datetime:
    seconds = (high - low).total_seconds()
    return low + timedelta(seconds=rng.uniform(0, seconds), microseconds=rng.randrange(10**6))


def generate(seed: int = 20260301) -> dict[str, int]:
    """About 400 orders placed from 45 days before the range to 2 days after it; returns counts
    of the cases that matter, so the test can check the history has them."""
    rng = random.Random(seed)
    channels = [ChannelFactory(code=code) for code in ("market", "pos", "web", "wholesale")]
    nodes = [NodeFactory(code="kpi-a"), NodeFactory(code="kpi-b")]
    placed_times = [
        _moment(rng, T0 - timedelta(days=45), T1 + timedelta(days=2)) for _ in range(400)
    ]
    placed_times += [T0, T1, T0 - timedelta(microseconds=1)]  # on the boundaries
    orders = Order.objects.bulk_create(
        Order(
            number=f"KP-{i:04d}",
            external_id=f"KP-{i}",
            channel=channels[i % 3] if i % 7 else channels[2],  # wholesale: no orders
            status="cancelled" if rng.random() < 0.1 else "shipped",
            placed_at=placed,
            currency="USD",
            customer_name="KPI Customer",
            ship_line1="1 Main St",
        )
        for i, placed in enumerate(placed_times)
    )
    fos, counts = [], {"placed_long_before": 0, "split_straddling": 0}
    for order in orders:
        if order.status == "cancelled" or rng.random() < 0.1:
            continue
        parts = rng.choices([1, 2, 3], weights=[70, 25, 5])[0]
        shipped = []
        for k in range(1, parts + 1):
            roll = rng.random()
            if roll < 0.1:
                at = None  # not shipped yet
            elif roll < 0.15:
                at = rng.choice([T0, T1, T1 - timedelta(microseconds=1)])
            else:  # mostly within days, some weeks later, a few before the order was placed
                at = order.placed_at + timedelta(
                    hours=rng.choice([rng.uniform(-3, 96), rng.uniform(0, 24 * 40)])
                )
            ship_by = rng.choice([None, order.placed_at + timedelta(hours=48), at])
            fos.append(
                FulfillmentOrder(
                    number=f"{order.number}/{k}",
                    order=order,
                    node=nodes[k % 2],
                    status="shipped" if at else "released",
                    delivery_method="ship",
                    service_level="standard",
                    ship_by=ship_by,
                    shipped_at=at,
                )
            )
            if at is not None:
                shipped.append(at)
        if shipped and T0 <= min(shipped) < T1:
            counts["placed_long_before"] += order.placed_at < T0 - selectors.PLACED_LOOKBACK
        if any(s < T0 for s in shipped) and any(T0 <= s < T1 for s in shipped):
            counts["split_straddling"] += 1
    FulfillmentOrder.objects.bulk_create(fos)

    events, seqs = [], {}

    def event(stream: str, event_type: str, at: datetime) -> None:
        seqs[stream] = seqs.get(stream, 0) + 1
        events.append(
            Event(
                stream=stream,
                seq=seqs[stream],
                type=event_type,
                actor_kind="system",
                occurred_at=at,
            )
        )

    for order in orders:
        if rng.random() < 0.15:
            for _ in range(rng.choice([1, 1, 2])):
                late = timedelta(hours=rng.uniform(-24, 24 * 30))
                event(f"order:{order.number}", "order.backordered", order.placed_at + late)
        if rng.random() < 0.12:
            for _ in range(rng.choice([1, 2, 3])):
                at = _moment(rng, T0 - timedelta(days=5), T1 + timedelta(days=5))
                event(f"order:{order.number}", "order.manual_touch", at)
    event("order:KP-NOPE", "order.manual_touch", T0 + timedelta(hours=5))  # no such order
    event("exception:7", "order.manual_touch", T0 + timedelta(hours=6))  # not an order stream
    event(f"Order:{orders[0].number}", "order.manual_touch", T0 + timedelta(hours=7))
    event(f"Order:{orders[0].number}", "order.backordered", T0 + timedelta(hours=7))
    event(f"order:{orders[-3].number}", "order.manual_touch", T0)  # on the boundary
    Event.objects.bulk_create(events)
    return counts


@pytest.fixture
def history():
    if not selectors.in_database():
        pytest.skip("compares the PostgreSQL queries with the portable ones")
    return generate()


def test_the_history_has_the_cases_that_matter(history):
    report = selectors.kpi_report(START, END)

    assert history["placed_long_before"] >= 3
    assert history["split_straddling"] >= 3
    whole = report.get()
    assert whole.orders > 50
    assert whole.cancelled > 0
    assert whole.backordered > 0
    assert whole.manual_touches > 0
    assert whole.shipped_orders > 50
    assert whole.split_orders > 0
    assert 0 < whole.fo_on_time < whole.fo_shipped


@pytest.mark.parametrize(("start", "end"), RANGES)
def test_every_query_gives_the_same_figures_both_ways(history, start, end):
    assert selectors.in_database()
    t0, t1 = selectors.bounds(start, end)

    for name in QUERIES:
        in_sql = getattr(selectors, name)(t0, t1)
        in_python = getattr(portable, name)(t0, t1)
        assert in_python == in_sql, name


def test_the_report_and_the_dashboard_are_the_same_off_postgresql(history, monkeypatch):
    in_sql = selectors.kpi_report(START, END)
    board_sql = dashboard.build_dashboard(START, END)
    monkeypatch.setattr(selectors, "in_database", lambda: False)

    in_python = selectors.kpi_report(START, END)
    board_python = dashboard.build_dashboard(START, END)

    assert in_python.cells == in_sql.cells
    for part in ("cards", "channel_rows", "charts", "exceptions", "webhooks", "feeds"):
        assert board_python[part] == board_sql[part], part


def test_percentile_is_percentile_cont_to_the_last_bit(history):
    """The percentiles the two ways compute from the same seconds are the same floats."""
    shipping_sql = selectors.order_shipping(T0, T1)
    shipping_python = portable.order_shipping(T0, T1)

    whole_sql, whole_python = shipping_sql[(None, None)], shipping_python[(None, None)]
    assert whole_python[2:] == whole_sql[2:]
    assert all(isinstance(p, float) for p in whole_sql[2:])
