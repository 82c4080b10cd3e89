"""20 parallel refunds of the same return refund once (real PostgreSQL, real threads, each with
its own database connection: 20 connections at most)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import NodeConnector
from orders.models import Order, PaymentTransaction
from orders.selectors import payment_summary
from returns.models import Refund, Return
from returns.policy import RequestedLine, create_return_policy
from returns.services import receipt
from returns.services.receipt import inspect_return, receive_return
from returns.services.requests import ReturnRequest, request_return
from tests.conftest import bearer_client
from tests.factories.inventory import NodeFactory
from tests.factories.orders import ChannelFactory, issue_api_key
from tests.returns.support import SYSTEM, shipped_order

pytestmark = pytest.mark.django_db(transaction=True)

N = 20


class _NotNow:
    """The refund the inspection schedules is what the threads race to do."""

    @staticmethod
    def delay(*args: object) -> None:
        return None


@pytest.fixture
def inspected(monkeypatch):
    create_return_policy(channel=None, terms={}, actor=SYSTEM)
    channel = ChannelFactory(code="web")
    key = issue_api_key(channel).key
    dc = NodeFactory(code="dc-columbus", connector=NodeConnector.API, can_accept_returns=True)
    order = shipped_order(dc, external_id="RACE-1", lines=[("TEE", 2, "20.00")])
    monkeypatch.setattr(receipt, "refund_return_task", _NotNow)
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 2, "size_fit")], authorize=True),
        actor=SYSTEM,
    )
    receive_return(return_id=rma.pk, node_id=dc.pk, actor=SYSTEM)
    inspect_return(return_id=rma.pk, dispositions={1: {"restock": 2}}, actor=SYSTEM)
    return key, order, rma


def test_twenty_parallel_refunds_of_one_return_refund_once(inspected):
    key, order, rma = inspected
    barrier = threading.Barrier(N)
    results: list = [None] * N

    def caller(i: int) -> None:
        api = bearer_client(key)
        try:
            barrier.wait()
            response = api.post(
                f"/api/v1/returns/{rma.number}/refunds/",
                {},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"caller-{i}",
            )
            results[i] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = sorted(code for code, _ in results)
    refunded_ids = {body["id"] for code, body in results if code == 201}
    assert set(statuses) <= {201, 409}, results
    assert len(refunded_ids) == 1  # every 201 names the one refund
    assert all(
        body["code"] in ("nothing_to_refund", "payment_in_progress")
        for code, body in results
        if code == 409
    )
    assert Refund.objects.count() == 1
    assert Refund.objects.get().amount == Decimal("40.0000")
    assert PaymentTransaction.objects.filter(kind="refund").count() == 1
    assert payment_summary(Order.objects.get(pk=order.pk)).refunded == Decimal("40.00")
    assert Return.objects.get(pk=rma.pk).status == "closed"
