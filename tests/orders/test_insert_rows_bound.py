"""oms.core.queries.insert_rows_bound / insert_unless_conflict_bound (the capture's INSERTs with
the values bound by the server): the same rows as insert_rows and bulk_create, the same conflict
answer, errors translated as Django's, statements still seen by CaptureQueriesContext."""

from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from oms.core import queries
from oms.core.queries import (
    insert_rows,
    insert_rows_bound,
    insert_unless_conflict_bound,
)
from orders.models import Order, OrderLine
from tests.factories.inventory import ProductFactory
from tests.factories.orders import captured_order
from tests.orders.test_insert_rows import _columns

pytestmark = pytest.mark.django_db


def _lines(order, product, first, count=2):
    return [
        OrderLine(
            order=order,
            line_number=first + n,
            external_line_id=f"ext-{n}" if n % 2 else "",
            product=product,
            sku=product.sku,
            name="Tee 'quoted' \\ back",
            quantity=n,
            unit_price=Decimal("9.99"),
            discount=Decimal("0.50"),
            tax=Decimal("0.001"),
            total=Decimal("9.49") * n,
        )
        for n in range(1, count + 1)
    ]


def test_bound_lines_are_the_rows_insert_rows_and_bulk_create_write():
    order = captured_order()
    product = ProductFactory()

    # more runs than psycopg's prepare threshold: the later ones run a prepared statement
    bound = [
        line
        for run in range(7)
        for line in insert_rows_bound(_lines(order, product, 1000 + run * 10))
    ]
    client = insert_rows(_lines(order, product, 100))
    compiled = OrderLine.objects.bulk_create(_lines(order, product, 200))

    assert all(line.pk and not line._state.adding for line in bound)
    for group in (bound[-2:], bound[:2]):
        for a, b, c in zip(group, client, compiled, strict=True):
            ca, cb, cc = (_columns(OrderLine, x.pk) for x in (a, b, c))
            for columns in (ca, cb, cc):
                columns.pop("line_number")
            assert ca == cb == cc


def test_an_order_goes_in_once_then_the_conflict_is_reported():
    order = captured_order(external_id="EXT-B")
    twin = Order(
        **{
            **model_to_dict(order, exclude=["id", "public_id", "number"]),
            "channel": order.channel,
            "pickup_node": None,
        },
        number="OMS-BOUN-0001",
    )
    assert insert_unless_conflict_bound(twin) is False  # same (channel, external_id)
    assert twin.pk is None
    twin.external_id = "EXT-B2"
    assert insert_unless_conflict_bound(twin) is True
    assert Order.objects.get(pk=twin.pk).number == "OMS-BOUN-0001"
    a, b = _columns(Order, order.pk), _columns(Order, twin.pk)
    assert a == b


def test_other_violations_raise_djangos_integrity_error():
    order = captured_order()
    product = ProductFactory()
    first = _lines(order, product, 500, count=1)
    insert_rows_bound(first)

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows_bound(_lines(order, product, 500, count=1))  # same (order, line_number)


def test_the_statements_bind_on_the_server_and_are_still_logged():
    order = captured_order()
    product = ProductFactory()
    classes = []
    real = queries._cursor

    def spy(conn, server_binding):
        cursor = real(conn, server_binding)
        classes.append(type(cursor.cursor))
        return cursor

    with CaptureQueriesContext(connection) as captured:
        queries._cursor, saved = spy, queries._cursor
        try:
            insert_rows_bound(_lines(order, product, 700))
            insert_rows(_lines(order, product, 10))
        finally:
            queries._cursor = saved

    assert issubclass(classes[0], psycopg.Cursor)  # server-side binding
    assert not issubclass(classes[0], psycopg.ClientCursor)
    assert issubclass(classes[1], psycopg.ClientCursor)  # Django's own: client-side
    assert [q["sql"].split(" (")[0] for q in captured.captured_queries] == [
        'INSERT INTO "orders_orderline"',
        'INSERT INTO "orders_orderline"',
    ]


def test_too_many_values_for_one_bound_statement_go_the_ordinary_way(monkeypatch):
    order = captured_order()
    product = ProductFactory()
    asked = []
    real = queries._cursor

    def spy(conn, server_binding):
        asked.append(server_binding)
        return real(conn, server_binding)

    monkeypatch.setattr(queries, "_cursor", spy)
    monkeypatch.setattr(queries, "_MAX_BOUND_PARAMS", 20)  # two lines are 26 values

    insert_rows_bound(_lines(order, product, 300, count=1))
    insert_rows_bound(_lines(order, product, 305, count=2))

    assert asked == [True, False]
    assert OrderLine.objects.filter(order=order, line_number__gte=300).count() == 3
