"""What the orchestration worker sends to PostgreSQL for one 3-line order on one node with an
API connector (issue 17): routing, the fulfillment order, and its release in the same
transaction (the node pulls its work: nothing leaves the process, so no second transaction and
no release task per fulfillment order). Pinned so that a change cannot add statements
unnoticed; lower them when an optimisation lands."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fulfillment import tasks
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.services.orchestration import orchestrate_order_for_release
from fulfillment.services.rollup import rollup_order
from fulfillment.tasks import orchestrate_order_task
from oms.events.models import Event
from orders.locks import lock_order
from orders.models import LineStatus, OrderStatus
from tests.factories.inventory import PUSHED, NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db(transaction=True)

# One transaction (BEGIN…COMMIT): the order lock with its hold check in one statement, routing's
# 9 statements under that lock with no savepoint and no second lock, the fulfillment order and
# its event after routing's without a sequence lookup (its node's connector and its lines'
# names read with the reservations), then the release under the same lock with nothing read
# back: its update and event, and the status roll-up. 31 when the release was a second
# transaction that locked the order again and read the fulfillment order back (ADR 0019); 23
# until the roll-ups' status moves were written once at the end (the order and its lines:
# allocated, then released) and the release's roll-up took routing's figures instead of
# reading the lines again (ADR 0022); 20 until the five events without a subject went in with
# one INSERT at the end (oms.events.services.events_in_one_insert); 16 until the lines' status
# UPDATE rode in the order's (rollup.StatusWrites.flush).
STATEMENTS_PER_ORDER = 15


class _Queue:
    """Stands in for a Celery task's delay/apply_async: records what would be sent."""

    def __init__(self):
        self.sent = []

    def delay(self, *args):
        self.sent.append(args)

    def apply_async(self, args, **options):
        self.sent.append(args)


@pytest.fixture
def order(monkeypatch):
    monkeypatch.setattr("fulfillment.handlers.orchestrate_order_task", _Queue())
    dc = NodeFactory(code="dc-east", connector="api")
    skus = ["TEE", "MUG", "CAP"]
    for sku in skus:
        stocked(dc, ProductFactory(sku=sku), on_hand=10)
    return captured_order(skus=skus, quantity=2)


@pytest.fixture
def release_tasks(monkeypatch):
    queue = _Queue()
    monkeypatch.setattr(tasks, "release_fulfillment_task", queue)
    monkeypatch.setattr(
        "fulfillment.services.fulfillment_orders.schedule_release",
        lambda ids: queue.sent.extend((i,) for i in ids),
    )
    return queue


def test_orchestrating_and_releasing_a_three_line_order_takes_at_most_15_statements(
    order, release_tasks
):
    orchestrate_order_task(order.pk)  # warm-up of per-process caches: another order
    other = captured_order(external_id="EXT-2", skus=["TEE", "MUG", "CAP"])

    with CaptureQueriesContext(connection) as ctx:
        orchestrate_order_task(other.pk)

    assert len(ctx.captured_queries) <= STATEMENTS_PER_ORDER, "\n".join(
        q["sql"][:120] for q in ctx.captured_queries
    )
    # Each row's status written once (rollup.StatusWrites), though it moved twice: the lines'
    # UPDATE rides in the order's (a data-modifying CTE), so one statement for both.
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert sum(sql.count('UPDATE "orders_order" ') for sql in sqls) == 1
    assert sum(sql.count('UPDATE "orders_orderline" ') for sql in sqls) == 1
    assert any('UPDATE "orders_orderline" ' in s and 'UPDATE "orders_order" ' in s for s in sqls)
    other.refresh_from_db()
    assert other.status == OrderStatus.RELEASED
    assert release_tasks.sent == []  # released in the task itself, no task per fulfillment
    assert [q["sql"] for q in ctx.captured_queries].count("COMMIT") == 1  # one transaction


def test_the_worker_releases_inline_with_the_same_events_in_sequence(order, release_tasks):
    orchestrate_order_task(order.pk)

    fo = FulfillmentOrder.objects.get(order=order)
    assert fo.status == FulfillmentStatus.RELEASED
    assert fo.number == f"{order.number}-1"
    assert set(order.lines.values_list("status", flat=True)) == {LineStatus.RELEASED}
    events = list(Event.objects.filter(stream=order.stream).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events] == [
        "order.created",
        "order.routed",
        "order.status_changed",
        "fulfillment.created",
        "fulfillment.released",
        "order.status_changed",
    ]
    assert [e.payload for e in events if e.type == "order.status_changed"] == [
        {"from": "created", "to": "allocated"},
        {"from": "allocated", "to": "released"},
    ]
    assert events[3].payload["lines"] == [
        {"line_number": n, "sku": sku, "quantity": 2}
        for n, sku in enumerate(["TEE", "MUG", "CAP"], start=1)
    ]


def test_a_second_run_releases_nothing_twice(order, release_tasks):
    orchestrate_order_task(order.pk)
    with CaptureQueriesContext(connection) as ctx:
        orchestrate_order_task(order.pk)

    assert FulfillmentOrder.objects.filter(order=order).count() == 1
    assert Event.objects.filter(stream=order.stream, type="fulfillment.released").count() == 1
    assert len(ctx.captured_queries) < 20


def test_a_purged_order_is_nothing_to_do(release_tasks):
    orchestrate_order_task(10**9)

    assert release_tasks.sent == []


def test_a_node_the_work_is_pushed_to_is_released_after_the_commit_as_before(
    monkeypatch, release_tasks
):
    # given: one line at an API node (pulls its work) and one at a node oms pushes work to
    monkeypatch.setattr("fulfillment.handlers.orchestrate_order_task", _Queue())
    pulls = NodeFactory(code="dc-pulls", connector="api")
    pushed = NodeFactory(code="dc-pushed", connector="pushed")
    stocked(pulls, ProductFactory(sku="TEE"), on_hand=10)
    stocked(pushed, ProductFactory(sku="MUG"), on_hand=10)
    order = captured_order(skus=["TEE", "MUG"], quantity=1)
    sent_before = len(PUSHED.sent)

    # when: orchestrated, its transaction only (what the task does before it sends anything)
    outcome, left = orchestrate_order_for_release(order_id=order.pk)

    # then: the API node's fulfillment order was released in that transaction; the pushed
    # one is left pending, nothing sent yet
    by_node = {fo.node.code: fo for fo in FulfillmentOrder.objects.filter(order=order)}
    assert by_node["dc-pulls"].status == FulfillmentStatus.RELEASED
    assert by_node["dc-pushed"].status == FulfillmentStatus.PENDING
    assert left == [by_node["dc-pushed"].pk]
    assert len(PUSHED.sent) == sent_before

    # when: the task's release after the commit (a second run releases what is left)
    orchestrate_order_task(order.pk)

    # then: sent once, released, the order released, the stream's events in sequence
    assert PUSHED.sent[sent_before:] == [by_node["dc-pushed"].number]
    assert set(FulfillmentOrder.objects.filter(order=order).values_list("status", flat=True)) == {
        FulfillmentStatus.RELEASED
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    events = list(Event.objects.filter(stream=order.stream).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("fulfillment.released") == 2


def test_an_order_split_over_two_pulling_nodes_rolls_up_as_a_fresh_read_would(release_tasks):
    # given: one line at each of two API nodes, and a third line backordered (no stock)
    pulls_east = NodeFactory(code="dc-east", connector="api")
    pulls_west = NodeFactory(code="dc-west", connector="api")
    stocked(pulls_east, ProductFactory(sku="TEE"), on_hand=10)
    stocked(pulls_west, ProductFactory(sku="MUG"), on_hand=10)
    ProductFactory(sku="CAP")
    order = captured_order(skus=["TEE", "MUG", "CAP"], quantity=1)

    # when: orchestrated (both fulfillment orders released in the transaction; the roll-ups
    # after each release take routing's figures, and the rows are written once at the end)
    orchestrate_order_task(order.pk)

    # then: both released, the line without stock backordered, and the order's status moves
    # recorded one by one as before
    order.refresh_from_db()
    fos = FulfillmentOrder.objects.filter(order=order)
    assert {fo.status for fo in fos} == {FulfillmentStatus.RELEASED}
    assert dict(order.lines.values_list("sku", "status")) == {
        "TEE": LineStatus.RELEASED,
        "MUG": LineStatus.RELEASED,
        "CAP": LineStatus.BACKORDERED,
    }
    assert order.status == OrderStatus.BACKORDERED
    events = list(Event.objects.filter(stream=order.stream).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.payload for e in events if e.type == "order.status_changed"] == [
        {"from": "created", "to": "backordered"}
    ]
    # and: a roll-up that reads everything back from the database finds nothing to change
    with transaction.atomic():
        locked = lock_order(order.pk)
        assert rollup_order(locked) == []
