import pytest

from ops.kpis import selectors
from ops.kpis.dashboard import build_dashboard
from tests.ops.kpis.planted import plant

pytestmark = pytest.mark.django_db


@pytest.fixture
def planted():
    return plant()


def test_orders_cancellations_and_backorders_by_day_and_channel(planted):
    report = selectors.kpi_report(planted.d1, planted.d2)
    web, pos = (next(i for i, c in report.channels.items() if c == code) for code in ("web", "pos"))

    assert report.get(planted.d1, web).orders == 2
    assert report.get(planted.d2, web).orders == 1
    assert report.get(planted.d2, pos).orders == 1
    assert report.get().orders == 4
    assert report.get(channel=web).cancellation_rate == pytest.approx(100 / 3)
    assert report.get(planted.d2, web).cancellation_rate == 100.0
    assert report.get().cancellation_rate == 25.0
    assert report.get(planted.d2, pos).backorder_rate == 100.0
    assert report.get().backorder_rate == 25.0
    assert report.get(channel=web).backorder_rate == 0.0


def test_order_to_ship_percentiles_and_split_shipments(planted):
    report = selectors.kpi_report(planted.d1, planted.d2)
    web = next(i for i, c in report.channels.items() if c == "web")

    # first shipments: A 4 h (D1), B 12 h (D2, split), D 10 h (D2)
    whole = report.get()
    assert whole.shipped_orders == 3
    assert whole.split_orders == 1
    assert whole.split_rate == pytest.approx(100 / 3)
    assert whole.ship_p50_hours == pytest.approx(10.0)
    assert whole.ship_p90_hours == pytest.approx(11.6)
    assert report.get(planted.d1).ship_p50_hours == pytest.approx(4.0)
    assert report.get(planted.d2).ship_p50_hours == pytest.approx(11.0)
    assert report.get(planted.d2).ship_p90_hours == pytest.approx(11.8)
    assert report.get(channel=web).ship_p90_hours == pytest.approx(11.2)


def test_on_time_rate_counts_fulfillment_orders_by_ship_day(planted):
    report = selectors.kpi_report(planted.d1, planted.d2)

    assert report.get().fo_shipped == 4
    assert report.get().on_time_rate == 50.0
    assert report.get(planted.d1).on_time_rate == 100.0
    assert report.get(planted.d2).on_time_rate == pytest.approx(100 / 3)


def test_manual_touches_per_100_orders(planted):
    report = selectors.kpi_report(planted.d1, planted.d2)

    assert report.get().manual_touches == 1
    assert report.get().touches_per_100 == 25.0
    assert report.get(planted.d2).touches_per_100 == 50.0  # 1 touch, 2 orders placed on D2


def test_a_range_before_the_history_is_empty(planted):
    report = selectors.kpi_report(
        planted.d1.replace(year=planted.d1.year - 1), planted.d1.replace(year=planted.d1.year - 1)
    )

    assert report.get().orders == 0
    assert report.get().on_time_rate is None


def test_inventory_feed_lag_lists_never_reported_then_stalest_first(planted):
    lags = selectors.inventory_feed_lag()

    codes = [lag.node for lag in lags]
    assert codes.index("dc-silent") < codes.index("dc-stale") < codes.index("dc-fresh")
    by_code = {lag.node: lag for lag in lags}
    assert by_code["dc-silent"].lag_hours is None
    assert by_code["dc-stale"].lag_hours == pytest.approx(30, abs=0.1)
    assert by_code["dc-fresh"].lag_hours == pytest.approx(2, abs=0.1)


def test_exceptions_and_webhooks_with_no_cases_or_deliveries(planted):
    data = build_dashboard(planted.d1, planted.d2)

    assert data["exceptions"] == {
        "queues": {},
        "open_total": 0,
        "breached_total": 0,
        "resolved": 0,
        "resolution_p50_hours": None,
        "resolution_p90_hours": None,
        "p50_display": "–",
        "p90_display": "–",
    }
    assert data["webhooks"]["queue_depth"] == 0
    assert data["outbox_backlog"] >= 2  # the planted events, not relayed in this test


def test_percentile_matches_postgres_percentile_cont():
    assert selectors.percentile([4.0, 10.0, 12.0], 0.9) == pytest.approx(11.6)
    assert selectors.percentile([], 0.5) is None


@pytest.mark.parametrize("in_database", [True, False], ids=["postgresql", "portable"])
def test_the_dashboard_callback_shows_the_planted_figures_either_way(
    planted, monkeypatch, in_database
):
    from ops.kpis import dashboard

    if not in_database:  # the SQLite demo's way, here on the test database
        monkeypatch.setattr(selectors, "in_database", lambda: False)

    context = dashboard.dashboard_callback(None, {})

    assert "kpi_error" not in context
    cards = {card["title"]: card for card in context["kpi"]["cards"]}
    assert cards["Orders captured"]["period"] == "4"
    assert cards["Order → ship p50 / p90"]["period"] == "10.0 h / 11.6 h"
    assert cards["On-time ship rate"]["period"] == "50.0%"
    assert cards["Manual touches / 100 orders"]["period"] == "25.0"
