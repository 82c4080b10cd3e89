"""The daily rollups (ops/kpis/rollups.py) give the dashboard the same figures as the raw
queries over the whole range (selectors.kpi_report_raw), cell for cell: on the seeded history
of test_portable.py (orders placed long before they ship, split orders straddling a range's
bounds, backorder events older than their order's day, touches on streams that are not an
order's), with every day computed, with some, and with none; after changes to old orders that
the refresh task picks up from the event log; and after history imported at source times.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from fulfillment.models import FulfillmentOrder
from inventory.models import Product, StockLevel
from inventory.services.ledger import InitialStock, set_initial_stock
from migration.mapping.schema import load_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.services import record_event
from ops.kpis import dashboard, rollups, selectors
from ops.models import KpiRollup, KpiRollupDay
from ops.tasks import refresh_kpi_rollups_task
from orders.models import Order
from tests.factories.inventory import NodeFactory
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS, corpus
from tests.ops.kpis.planted import plant
from tests.ops.kpis.test_portable import END, RANGES, START, generate

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("kpi-rollup-test")
FIRST, LAST = END - timedelta(days=50), END + timedelta(days=5)


@pytest.fixture
def history():
    if not selectors.in_database():
        pytest.skip("compares with the PostgreSQL queries")
    return generate()


def assert_same(start, end):
    from_rollups = selectors.kpi_report(start, end)
    raw = selectors.kpi_report_raw(start, end)
    assert from_rollups.cells == raw.cells
    assert from_rollups.days == raw.days
    assert from_rollups.channels == raw.channels


@pytest.mark.parametrize(("start", "end"), RANGES)
def test_rollups_equal_the_raw_queries_with_every_day_computed(history, start, end):
    call_command("rebuild_kpi_rollups", "--from", FIRST.isoformat(), "--to", LAST.isoformat())
    assert KpiRollupDay.objects.count() == (LAST - FIRST).days + 1
    assert KpiRollup.objects.filter(day__lt=START).exists()
    assert any(r.backordered_before for r in KpiRollup.objects.all())
    assert any(r.second_ship_epochs for r in KpiRollup.objects.all())

    assert_same(start, end)


def test_rollups_equal_the_raw_queries_with_some_days_or_none_computed(history):
    assert_same(START, END)  # nothing stored: every day computed from the rows
    rollups.rebuild(START + timedelta(days=3), START + timedelta(days=8))
    assert_same(START, END)
    assert_same(START - timedelta(days=20), END + timedelta(days=3))


def test_a_rebuild_is_idempotent(history):
    rollups.rebuild(START, END)
    first = list(KpiRollup.objects.order_by("day", "channel_id").values())
    rollups.rebuild(START, END)
    again = list(KpiRollup.objects.order_by("day", "channel_id").values())
    assert [{**r, "id": 0} for r in first] == [{**r, "id": 0} for r in again]


def test_the_rollup_path_changes_the_figures_it_reads(history):
    """The test can fail: a stored row that disagrees with the orders shows on the report."""
    rollups.rebuild(START, END)
    row = KpiRollup.objects.filter(day=END, orders__gt=0).first()
    KpiRollup.objects.filter(pk=row.pk).update(orders=row.orders + 1)
    assert selectors.kpi_report(START, END).get().orders == (
        selectors.kpi_report_raw(START, END).get().orders + 1
    )


def test_the_refresh_task_rebuilds_the_days_old_changes_touch(history):
    rollups.refresh()  # first run: the cursor starts at the newest event
    call_command("rebuild_kpi_rollups", "--from", FIRST.isoformat(), "--to", LAST.isoformat())
    old = (
        Order.objects.filter(placed_at__date__lt=START, status="shipped")
        .exclude(fulfillment_orders__shipped_at__isnull=False)
        .first()
    ) or Order.objects.filter(placed_at__date__lt=START).exclude(status="cancelled").first()
    late = Order.objects.filter(
        placed_at__date__gte=START,
        placed_at__date__lte=END,
        fulfillment_orders__shipped_at__isnull=False,
    ).first()
    with transaction.atomic():
        Order.objects.filter(pk=old.pk).update(status="cancelled")
        record_event(
            stream=old.stream,
            type="order.status_changed",
            actor=ACTOR,
            payload={"from": "shipped", "to": "cancelled"},
        )
        # A second shipment for an order first shipped in the range: now a split order.
        FulfillmentOrder.objects.create(
            number=f"{late.number}/late",
            order=late,
            node=late.fulfillment_orders.first().node,
            status="shipped",
            delivery_method="ship",
            service_level="standard",
            shipped_at=datetime.combine(END, datetime.min.time(), tzinfo=UTC) + timedelta(hours=20),
        )
        record_event(
            stream=late.stream,
            type="order.manual_touch",
            actor=ACTOR,
            payload={"remedy": "retry_integration", "user": "kpi-test"},
            occurred_at=datetime.combine(START, datetime.min.time(), tzinfo=UTC)
            + timedelta(hours=3),
        )
    with pytest.raises(AssertionError):
        assert_same(FIRST, LAST)  # the stored days are stale until the task runs

    assert rollups.refresh()["days"] >= 3
    for start, end in [*RANGES, (FIRST, LAST)]:
        assert_same(start, end)


def test_the_dashboard_reads_yesterday_from_its_rollup_and_today_from_the_rows():
    planted = plant()
    assert refresh_kpi_rollups_task()["days"] == rollups.RECENT_DAYS  # what beat runs
    assert KpiRollupDay.objects.filter(day=planted.d1).exists()
    assert not KpiRollupDay.objects.filter(day=planted.d2).exists()  # today is never stored
    assert KpiRollup.objects.filter(day=planted.d1).count() == 1  # web: A and B
    assert_same(planted.d1, planted.d2)
    built = dashboard.build_dashboard(planted.d1, planted.d2)
    assert built["cards"][0]["period"] == "4"


@pytest.mark.django_db(transaction=True)
def test_history_imported_at_source_times_is_rolled_up_by_the_next_refresh():
    rollups.refresh()
    ChannelFactory(code="shopify", name="Shopify")
    node = NodeFactory(code="shopify-shop", can_pickup=True)

    def run(name):
        return run_import(
            mapping=load_mapping(MAPPINGS / f"{name}.yaml"),
            input_path=corpus(name),
            dry_run=False,
            actor=ACTOR,
            update_changed=False,
        )

    run("shopify_inventory_csv")
    for sku in ("GIFT-CARD-10", "GIFT-CARD-100", "THE-COLLECTION-SNOWBOARD-HYDROGEN"):
        product = Product.objects.get_or_create(sku=sku, defaults={"name": sku})[0]
        StockLevel.objects.filter(node=node, product=product).delete()
        set_initial_stock(node_id=node.pk, levels=[InitialStock(product.pk, 5)], actor=ACTOR)
    assert run("shopify_orders_csv").created > 10
    placed = sorted(Order.objects.values_list("placed_at", flat=True))
    first, last = placed[0].astimezone(UTC).date(), placed[-1].astimezone(UTC).date()
    assert last < rollups.today() - timedelta(days=rollups.RECENT_DAYS)  # backdated history

    rollups.refresh()  # sees the imported events, whatever their source times
    assert KpiRollupDay.objects.filter(day=first).exists()
    assert KpiRollupDay.objects.filter(day=last).exists()
    assert_same(first, last)
    assert (
        selectors.kpi_report(first, last).get().orders
        == Order.objects.filter(placed_at__date__lte=last).count()
    )


def _fields(rows):
    return [
        {f.name: getattr(r, f.attname) for f in KpiRollup._meta.concrete_fields if f.name != "id"}
        for r in rows
    ]


def test_a_day_in_sql_is_the_day_in_python(history):
    days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    compared = 0
    for day in days:
        in_sql, in_python = rollups.day_rows(day), rollups.portable_day_rows(day)
        assert _fields(in_sql) == _fields(in_python), day
        compared += len(in_sql)
    assert compared > 100
