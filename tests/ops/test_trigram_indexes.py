"""The order search's trigram indexes (ops migrations 0007 and 0016): all eight exist on
PostgreSQL, as GIN indexes with no pending list (fastupdate off), so that no capture pays for
merging thousands of orders' trigrams inline; the console's icontains search still uses them."""

import pytest
from django.db import connection

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


def test_trigram_indexes_are_gin_without_pending_list(postgresql):
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
        assert "fastupdate=off" in found[name][2], name


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
