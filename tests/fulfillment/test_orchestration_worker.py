"""Capture → on commit → Redis → a real worker routes the order, with the request's
correlation id restored in the worker."""

import json

import pytest

from orders.models import Order, OrderStatus
from tests.api.test_orders_api import order_body
from tests.celery_worker import wait_until
from tests.factories.inventory import NodeFactory, ProductFactory, stocked

pytestmark = pytest.mark.django_db(transaction=True)


def test_capture_schedules_orchestration_on_a_real_worker_with_the_correlation_id(
    celery_worker, web_api
):
    # given
    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE-1"), on_hand=10)
    stocked(dc, ProductFactory(sku="MUG-2"), on_hand=10)

    # when
    response = web_api.post(
        "/api/v1/orders/", order_body(), format="json", HTTP_X_CORRELATION_ID="checkout-worker-1"
    )

    # then
    assert response.status_code == 201
    line = celery_worker.wait_for('"message": "orchestrated order"')
    record = json.loads(line)
    assert record["order"] == response.json()["number"]
    assert record["outcome"] == "routed"
    assert record["correlation_id"] == "checkout-worker-1"
    # the release to the (api) node follows in the same task, after orchestration commits
    wait_until(lambda: Order.objects.get().status == OrderStatus.RELEASED, what="release")


def test_releasing_the_last_hold_schedules_orchestration_again(celery_worker, web_api):
    # given: a held order
    ProductFactory(sku="TEE-1")
    ProductFactory(sku="MUG-2")
    number = web_api.post("/api/v1/orders/", order_body(), format="json").json()["number"]
    celery_worker.wait_for('"outcome": "backordered"')  # nothing in stock anywhere
    hold = web_api.post(f"/api/v1/orders/{number}/holds/", {"kind": "fraud"}, format="json")

    # when
    released = web_api.post(
        f"/api/v1/orders/{number}/holds/{hold.json()['id']}/release/",
        {"note": "verified"},
        format="json",
        HTTP_X_CORRELATION_ID="release-1",
    )

    # then
    assert hold.status_code == 201
    assert released.status_code == 200
    line = celery_worker.wait_for('"correlation_id": "release-1"')
    assert json.loads(line)["outcome"] == "backordered"


def test_a_worker_keeps_its_database_session_from_one_task_to_the_next(web_api):
    """Celery's Django fix-up closed the worker's connection before and after every task: each
    order opened a PostgreSQL session of its own, and no prepared statement outlived one task
    (ADR 0023). The worker now keeps it as a web process does between requests."""
    from django.db import connection

    from tests.celery_worker import running_worker

    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE-1"), on_hand=10)
    stocked(dc, ProductFactory(sku="MUG-2"), on_hand=10)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"

    def worker_sessions() -> set[tuple[int, object]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, backend_start FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'oms-test-worker'"
            )
            return set(cursor.fetchall())

    def released(number: str) -> bool:
        return Order.objects.get(number=number).status == OrderStatus.RELEASED

    with running_worker({"DATABASE_URL": f"{url}?application_name=oms-test-worker"}):
        sessions = []
        for n in range(3):
            body = order_body(f"keep-session-{n}")
            response = web_api.post("/api/v1/orders/", body, format="json")
            assert response.status_code == 201
            number = response.json()["number"]
            wait_until(lambda number=number: released(number), what=f"release of {number}")
            sessions.append(worker_sessions())

    assert len(sessions[0]) == 1  # the worker's one session, open between tasks
    assert sessions[0] == sessions[1] == sessions[2]  # the same backend, started once
