"""The order search's trigram indexes (ops migrations 0007, 0016 and 0017): all eight exist on
PostgreSQL, as GIN indexes with a pending list (fastupdate on, 4 MB) that the beat task
`flush_search_indexes_task` merges (ADR 0028); the console's icontains search uses them and finds
an order whether its trigrams are still in the list or merged."""

import pytest
from django.db import connection

from ops.tasks import flush_search_indexes_task
from tests.factories.orders import ChannelFactory

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {
    "ops_trgm_order_number": "orders_order",
    "ops_trgm_order_external_id": "orders_order",
    "ops_trgm_order_email": "orders_order",
    "ops_trgm_order_name": "orders_order",
    "ops_trgm_order_phone": "orders_order",
    "ops_trgm_line_sku": "orders_orderline",
    "ops_trgm_fo_number": "fulfillment_fulfillmentorder",
    "ops_trgm_shipment_tracking": "fulfillment_shipment",
}


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL only")


def test_trigram_indexes_are_gin_with_a_4_mb_pending_list(postgresql):
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.relname, t.relname, am.amname, coalesce(c.reloptions, '{}')
            FROM pg_class c
            JOIN pg_index i ON i.indexrelid = c.oid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_am am ON am.oid = c.relam
            WHERE c.relname LIKE 'ops_trgm_%%'
            """
        )
        found = {name: (table, am, options) for name, table, am, options in cur.fetchall()}
    assert set(found) == set(TRIGRAM_INDEXES)
    for name, table in TRIGRAM_INDEXES.items():
        assert found[name][0] == table
        assert found[name][1] == "gin"
        assert "fastupdate=on" in found[name][2], name
        assert "gin_pending_list_limit=4096" in found[name][2], name


def test_the_console_search_is_served_by_the_index(postgresql):
    """The admin's icontains (UPPER(col) LIKE UPPER('%q%')) still finds the order, and the
    planner can answer it from the trigram index (sequential scans off: the table is tiny)."""
    from orders.models import Order

    channel = ChannelFactory(code="web")
    for n, email in ((1, "ada.lovelace@example.com"), (2, "grace.hopper@example.com")):
        Order.objects.create(
            number=f"OMS-TRGM-000{n}",
            external_id=f"trgm-{n}",
            channel=channel,
            placed_at="2026-01-05T10:00:00Z",
            currency="USD",
            customer_name="Search Customer",
            customer_email=email,
            ship_line1="1 Main Street",
        )
    search = (
        Order.objects.filter(customer_email__icontains="LOVELACE")
        .order_by()
        .values_list("number", flat=True)
    )
    assert list(search) == ["OMS-TRGM-0001"]
    with connection.cursor() as cur:
        # No sequential scan, and no plain index scan (a b-tree walked in order with a filter,
        # which the planner may pick for a tiny table): a bitmap scan needs an index that can
        # answer the LIKE itself.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_indexscan = off")
    assert "ops_trgm_order_email" in search.explain()


def test_the_task_flushes_every_trigram_index(postgresql):
    assert set(flush_search_indexes_task()) >= set(TRIGRAM_INDEXES)


def test_the_beat_task_merges_what_captures_left_in_the_pending_lists(postgresql):
    """New orders' trigrams wait in the lists, where the search finds them; the task merges
    them into the indexes (the order indexes' lists had pages, then none), and the search
    finds the same order from the index alone."""
    from orders.models import Order

    flush_search_indexes_task()  # whatever earlier tests left
    channel = ChannelFactory(code="web")
    Order.objects.create(
        number="OMS-PEND-0001",
        external_id="pending-1",
        channel=channel,
        placed_at="2026-01-05T10:00:00Z",
        currency="USD",
        customer_name="Pending Customer",
        customer_email="katherine.johnson@example.com",
        customer_phone="+1 757 555 0199",
        ship_line1="1 Main Street",
    )

    def search() -> list[str]:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_indexscan = off")
        found = Order.objects.filter(customer_email__icontains="JOHNSON").order_by()
        assert "ops_trgm_order_email" in found.explain()
        return list(found.values_list("number", flat=True))

    assert search() == ["OMS-PEND-0001"]  # from the pending list
    merged = flush_search_indexes_task()
    for name in (
        "ops_trgm_order_number",
        "ops_trgm_order_external_id",
        "ops_trgm_order_email",
        "ops_trgm_order_name",
        "ops_trgm_order_phone",
    ):
        assert merged[name] >= 1, (name, merged)
    assert sum(flush_search_indexes_task().values()) == 0  # nothing left
    assert search() == ["OMS-PEND-0001"]  # from the index
