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
