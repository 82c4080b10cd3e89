"""Orchestration's statements with an array parameter keep one generic plan once prepared
(oms/core/queries.py, opaque_array): the reservation, the node candidates and the lines'
roll-up were planned again on every execution (0.36 ms of planning per orchestrated order)."""

import pytest
from django.db import connection

from fulfillment.services.orchestration import orchestrate_order
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order

pytestmark = pytest.mark.django_db

ORDERS = 12
# Enough stock rows that a custom plan for 3 products looks cheaper than a generic one for
# PostgreSQL's assumed 10 (on a handful of rows both cost next to nothing and the generic plan
# wins anyway), as on a retailer's database.
CATALOGUE = 20_000

# What tells each statement apart in pg_prepared_statements.
STATEMENTS = {
    "reservation": "WITH ORDINALITY",
    "node candidates": "LEFT JOIN inventory_stocklevel s",
    "lines' roll-up": "along_0 AS (UPDATE",
}


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements and their plans are PostgreSQL's")


def test_orchestration_plans_its_array_statements_once_not_once_per_order(
    postgresql, django_capture_on_commit_callbacks
):
    from inventory.models import Node, Product, StockLevel

    node = NodeFactory(code="dc-plans")
    products = [ProductFactory(sku=f"PLAN-{n}") for n in range(3)]
    for product in products:
        stocked(node, product, on_hand=100)
    other = NodeFactory(code="dc-other")
    catalogue = Product.objects.bulk_create(
        [Product(sku=f"CAT-{n:05d}", name=f"Catalogue {n}") for n in range(CATALOGUE)],
        batch_size=5000,
    )
    StockLevel.objects.bulk_create(
        [StockLevel(node=n, product=p, on_hand=5) for p in catalogue for n in (node, other)],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        for model in (Product, StockLevel, Node):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    channel = ChannelFactory(code="web")
    for n in range(ORDERS):
        order = captured_order(channel, external_id=f"PLANS-{n}", skus=[p.sku for p in products])
        with django_capture_on_commit_callbacks(execute=True):
            orchestrate_order(order_id=order.pk)
        order.refresh_from_db()
        assert order.status == "released", order.status

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    plans = {}
    for name, marker in STATEMENTS.items():
        [(generic, custom)] = [(g, c) for text, g, c in prepared if marker in text]
        plans[name] = (generic, custom)
    # psycopg prepares a statement on its 6th run; PostgreSQL then tries 5 custom plans before
    # it compares them with the generic one, and keeps the generic one from then on.
    assert all(custom <= 5 and generic >= 1 for generic, custom in plans.values()), plans
