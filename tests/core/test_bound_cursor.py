"""oms.core.queries.bound_cursor's cursors share their connection's Transformer (the parameters'
dumpers found once), one cursor at a time: a cursor gives it back when closed, and one opened
while another holds it makes its own, so no open cursor's rows are ever read through another
statement's result."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.core.queries import bound_cursor

pytestmark = pytest.mark.django_db

VALUES = ["text", 7, Decimal("9.99"), datetime(2026, 12, 7, tzinfo=UTC), True, None]
STATEMENT = "SELECT %s::text, %s::int, %s::numeric, %s::timestamptz, %s::bool, %s::text"


def test_a_closed_cursors_transformer_serves_the_next_cursor():
    with bound_cursor(connection) as first:
        first.execute(STATEMENT, VALUES)
        assert list(first.fetchone()) == VALUES
        transformer = first.cursor._tx

    with bound_cursor(connection) as second:
        second.execute("SELECT %s::int + 1", [41])
        assert second.fetchone() == (42,)
        assert second.cursor._tx is transformer  # taken over, not rebuilt
        second.execute(STATEMENT, VALUES)
        assert list(second.fetchone()) == VALUES


def test_cursors_open_at_once_keep_their_own_results():
    # given: a cursor holding the shared Transformer with rows not yet fetched
    with bound_cursor(connection) as outer:
        outer.execute("SELECT n, n::text FROM generate_series(1, 3) AS n")
        # when: another cursor runs a statement of other types meanwhile
        with bound_cursor(connection) as inner:
            inner.execute("SELECT %s::numeric, %s::bool", [Decimal("1.50"), False])
            assert inner.fetchall() == [(Decimal("1.50"), False)]
            assert inner.cursor._tx is not outer.cursor._tx
        # then: the first cursor's rows are still its own
        assert outer.fetchall() == [(1, "1"), (2, "2"), (3, "3")]


def test_a_binary_cursor_reads_its_rows_in_binary_after_a_text_one():
    with bound_cursor(connection) as text:
        text.execute("SELECT %s::int[]", [[1, 2]])
        assert text.fetchone() == ([1, 2],)
    with bound_cursor(connection, binary=True) as binary:
        binary.execute("SELECT %s::int[], %s::numeric", [[3, 4], Decimal("2.5")])
        assert binary.fetchone() == ([3, 4], Decimal("2.5"))


def test_a_transformer_a_copy_used_is_not_handed_on():
    with bound_cursor(connection) as copying:
        with copying.cursor.copy("COPY (SELECT 1, 'a') TO STDOUT") as copy:
            copy.set_types(["int4", "text"])
            assert list(copy.rows()) == [(1, "a")]
        used = copying.cursor._tx

    with bound_cursor(connection) as next_one:
        next_one.execute(STATEMENT, VALUES)
        assert list(next_one.fetchone()) == VALUES
        assert next_one.cursor._tx is not used


def test_the_query_log_shows_each_statement_once_it_is_prepared():
    # psycopg prepares a statement after its 5th run and then no longer records it on the
    # cursor; Django's query log (CaptureQueriesContext, DEBUG) reads that record
    statement = "SELECT %s::int * 2"
    with CaptureQueriesContext(connection) as ctx:
        for n in range(8):
            with bound_cursor(connection) as cursor:
                cursor.execute(statement, [n])
                assert cursor.fetchone() == (2 * n,)

    assert [query["sql"] for query in ctx.captured_queries] == [
        "SELECT $1::int * 2" for _ in range(8)
    ]
