"""POST /api/v1/orders/ as production runs it (no test transaction around the request): how
many statements a capture sends, and that the transaction without savepoints still rolls back
as a whole and still answers a duplicate."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.api.models import IdempotencyKey
from oms.events.models import Event
from orders.models import Order
from tests.api.test_orders_api import order_body
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory, issue_api_key

pytestmark = pytest.mark.django_db(transaction=True)

# auth SELECT; claim INSERT (autocommit); BEGIN; products SELECT; INSERT order, lines, event;
# UPDATE key with the response; COMMIT.
STATEMENTS_WITH_KEY = 9
# auth SELECT; BEGIN; products SELECT; INSERT order, lines, event; COMMIT.
STATEMENTS_WITHOUT_KEY = 7


class _Queue:
    """Stands in for the Celery task: in production, publishing is a Redis call, not SQL; the
    eager test setting would run orchestration inside the request instead."""

    def __init__(self):
        self.order_ids = []

    def delay(self, order_id):
        self.order_ids.append(order_id)


@pytest.fixture
def queued(monkeypatch):
    queue = _Queue()
    monkeypatch.setattr("fulfillment.handlers.orchestrate_order_task", queue)
    return queue


@pytest.fixture
def api(queued):
    ProductFactory(sku="TEE-1")
    ProductFactory(sku="MUG-2")
    return bearer_client(issue_api_key(ChannelFactory(code="web")).key)


def post(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/v1/orders/", body, format="json", **headers)


def test_a_capture_with_a_key_takes_nine_statements(api, django_assert_max_num_queries):
    post(api, order_body("W-0"), "warm-up")  # last_used_at is written at most once a minute

    with django_assert_max_num_queries(STATEMENTS_WITH_KEY):
        response = post(api, order_body("W-1"), "key-1")

    assert response.status_code == 201


def _shape(sql: str) -> str:
    """`SELECT <table>`, `INSERT <table>`, `UPDATE <table>`, or the statement (BEGIN...)."""
    words = sql.split()
    if words[0] == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}"
    if words[0] in ("INSERT", "UPDATE"):
        return f"{words[0]} {words[2] if words[0] == 'INSERT' else words[1]}"
    return sql


def test_the_statements_of_a_capture_with_a_key(api, queued):
    post(api, order_body("W-0"), "warm-up")

    with CaptureQueriesContext(connection) as ctx:
        response = post(api, order_body("W-1"), "key-1")

    assert response.status_code == 201
    assert [_shape(q["sql"]) for q in ctx.captured_queries] == [
        'SELECT "orders_apiclient"',
        'INSERT "api_idempotencykey"',
        "BEGIN",
        'SELECT "inventory_product"',
        'INSERT "orders_order"',
        'INSERT "orders_orderline"',
        'INSERT "events_event"',
        'UPDATE "api_idempotencykey"',
        "COMMIT",
    ]
    assert "ON CONFLICT DO NOTHING" in ctx.captured_queries[4]["sql"]
    assert Order.objects.get(external_id="W-1").pk in queued.order_ids


def test_a_capture_without_a_key_takes_seven_statements(api, django_assert_max_num_queries):
    post(api, order_body("W-0"))

    with django_assert_max_num_queries(STATEMENTS_WITHOUT_KEY):
        response = post(api, order_body("W-1"))

    assert response.status_code == 201


def test_a_duplicate_external_id_with_a_key_is_409_and_kept(api):
    # given
    first = post(api, order_body("W-1"), "key-1")

    # when
    duplicate = post(api, order_body("W-1"), "key-2")
    replayed = post(api, order_body("W-1"), "key-2")

    # then
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_order"
    assert duplicate.json()["extra"]["number"] == first.json()["number"]
    assert replayed.status_code == 409
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json() == duplicate.json()
    assert Order.objects.count() == 1
    assert Event.objects.count() == 1


def test_a_failure_mid_capture_with_a_key_leaves_no_order_no_event_and_no_key(api, monkeypatch):
    # given: the event write fails after the order and its lines went in (no savepoint)
    def broken_record_event(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("orders.services.capture.record_event", broken_record_event)
    api.raise_request_exception = False

    # when
    response = post(api, order_body("W-1"), "key-1")

    # then
    assert response.status_code == 500
    assert not Order.objects.exists()
    assert not Event.objects.exists()
    assert not IdempotencyKey.objects.exists()  # released: the client may retry with it

    # and the retry goes through
    monkeypatch.undo()
    assert post(api, order_body("W-1"), "key-1").status_code == 201
    assert Order.objects.count() == 1
