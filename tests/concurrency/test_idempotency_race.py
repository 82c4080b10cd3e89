"""20 concurrent requests with one Idempotency-Key create exactly one order (real PostgreSQL,
real threads, each with its own database connection)."""

import threading
import time

import pytest
from django.db import connection

from oms.events.models import Event
from orders.models import Order
from orders.services import capture
from tests.api.test_orders_api import order_body
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory, issue_api_key

pytestmark = pytest.mark.django_db(transaction=True)

N = 20


def _fire(key: str, body: dict, n: int) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        api = bearer_client(key)
        try:
            barrier.wait()
            response = api.post(
                "/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="checkout-7f3a"
            )
            results[i] = (
                response.status_code,
                response.get("Idempotent-Replayed"),
                response.json(),
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def key():
    ProductFactory(sku="TEE-1")
    ProductFactory(sku="MUG-2")
    return issue_api_key(ChannelFactory(code="web")).key


def test_twenty_concurrent_requests_with_one_key_create_exactly_one_order(key):
    # when
    results = _fire(key, order_body(), N)

    # then
    created = [r for r in results if r[0] == 201 and r[1] is None]
    replayed = [r for r in results if r[0] == 201 and r[1] == "true"]
    in_use = [r for r in results if r[0] == 409]
    assert len(created) == 1
    assert len(replayed) + len(in_use) == N - 1
    assert all(r[2]["code"] == "idempotency_key_in_use" for r in in_use)
    assert {r[2]["number"] for r in replayed} <= {created[0][2]["number"]}
    assert Order.objects.count() == 1
    assert Event.objects.filter(type="order.created").count() == 1


def test_while_the_first_is_slow_every_other_request_is_told_the_key_is_in_use(key, monkeypatch):
    # given: capture takes half a second, so all others arrive while it runs
    real = capture.capture_order

    def slow(**kwargs):
        time.sleep(0.5)
        return real(**kwargs)

    monkeypatch.setattr("orders.api.views.capture_order", slow)

    # when
    results = _fire(key, order_body(), N)

    # then
    statuses = sorted(r[0] for r in results)
    assert statuses == [201] + [409] * (N - 1)
    assert Order.objects.count() == 1
