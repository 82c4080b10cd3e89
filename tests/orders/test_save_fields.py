"""oms.core.queries.save_fields(along=...): the roll-ups' status writes (fulfillment/services/
rollup.py, StatusWrites.flush) send the lines' UPDATEs inside the order's, as data-modifying
CTEs: one statement, every row written, and a missing order row still an error."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from oms.core.queries import save_fields
from orders.models import Order, OrderLine
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


def _line_update(ids, status):
    return (
        f'UPDATE "{OrderLine._meta.db_table}" SET status = %s WHERE id = ANY(%s)',  # noqa: S608
        [status, ids],
    )


def test_the_order_and_its_lines_written_in_one_statement():
    order = captured_order()
    first, *rest = list(order.lines.order_by("id").values_list("id", flat=True))
    order.mark_allocated()  # the FSM transition, written by save_fields

    with CaptureQueriesContext(connection) as ctx:
        save_fields(
            order,
            ["status", "updated_at"],
            along=[_line_update([first], "backordered"), _line_update(rest, "allocated")],
        )

    assert len(ctx.captured_queries) == 1
    assert ctx.captured_queries[0]["sql"].startswith("WITH along_0 AS (UPDATE")
    assert Order.objects.get(pk=order.pk).status == "allocated"
    statuses = dict(order.lines.values_list("id", "status"))
    assert statuses == {first: "backordered", **dict.fromkeys(rest, "allocated")}


def test_a_missing_order_row_is_an_error_and_its_along_statements_go_with_the_transaction():
    order = captured_order()
    line_ids = list(order.lines.values_list("id", flat=True))
    before = set(order.lines.values_list("status", flat=True))
    ghost = Order.objects.get(pk=order.pk)
    ghost.pk = ghost.id = -1  # no such row

    with pytest.raises(DatabaseError), transaction.atomic():
        save_fields(ghost, ["status", "updated_at"], along=[_line_update(line_ids, "allocated")])

    assert set(order.lines.values_list("status", flat=True)) == before
