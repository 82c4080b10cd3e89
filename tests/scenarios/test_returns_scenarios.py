"""Issue 11's returns scenarios through the API with a real Celery worker (routing, the
simulated WMS, refunds and exchange charges all run on it), each ending with exact stock,
ledger and money figures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import InventoryMovement
from inventory.selectors import find_ledger_mismatches
from oms.core.actors import Actor
from ops.models import ExceptionCase
from orders.models import Order, PaymentTransaction
from orders.payments import script_simulated_payment
from orders.selectors import payment_summary
from orders.services.api_clients import create_api_client
from returns.models import Exchange, Refund, Return
from returns.policy import create_return_policy
from returns.tasks import sweep_returns_task
from tests.celery_worker import wait_until
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory, stocked
from tests.scenarios.test_scenarios import OHIO, order, place, stock, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("scenario")


@pytest.fixture
def policy(nodes, web_channel):
    """The transactional flush took the migration's default policy: make it again, and let
    both DCs take returns."""
    for node in (nodes["east"], nodes["nyc"]):
        node.can_accept_returns = True
        node.save(update_fields=["can_accept_returns"])
    return create_return_policy(channel=None, terms={}, actor=SYSTEM)


def open_return(api, number, lines, **extra):
    response = api.post(
        f"/api/v1/orders/{number}/returns/",
        {
            "lines": [
                {"line_number": n, "quantity": q, "reason_code": reason} for n, q, reason in lines
            ],
            **extra,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"ret-{number}",
    )
    assert response.status_code == 201, response.json()
    return response.json()["number"]


def node_api(code):
    return bearer_client(create_api_client(node_code=code, name=f"{code} returns").key)


def receive_and_inspect(node, rma, dispositions):
    received = node.post(
        f"/api/v1/returns/{rma}/receive/", {"message_id": f"rcv-{rma}"}, format="json"
    )
    assert received.status_code == 200, received.json()
    inspected = node.post(
        f"/api/v1/returns/{rma}/inspect/",
        {"lines": [{"line_number": n, **d} for n, d in dispositions.items()]},
        format="json",
    )
    assert inspected.status_code == 200, inspected.json()


def wait_return(api, rma, status, timeout=45):
    wait_until(
        lambda: api.get(f"/api/v1/returns/{rma}/").json()["status"] == status,
        timeout=timeout,
        what=f"return {rma} to be {status}",
    )


def restocks(node, sku):
    return list(
        InventoryMovement.objects.filter(node=node, product__sku=sku, reason="return_restock")
        .order_by("id")
        .values_list("delta_on_hand", flat=True)
    )


def test_r1_a_return_received_at_a_store_restocks_and_fills_a_waiting_backorder(
    worker, web_api, nodes, policy
):
    # given: the one jacket ships from the DC; a second order for it waits for stock
    stocked(nodes["east"], ProductFactory(sku="JKT"), on_hand=1)
    stocked(nodes["nyc"], ProductFactory.create(sku="JKT"), on_hand=0)
    first = place(web_api, "R1-A", [("JKT", 1)], address=OHIO)
    wait_for(web_api, first, "completed")
    waiting = place(web_api, "R1-B", [("JKT", 1)])
    wait_for(web_api, waiting, "backordered")

    # when: the customer brings the jacket to the Manhattan store
    rma = open_return(web_api, first, [(1, 1, "size_fit")], return_node="store-nyc")
    receive_and_inspect(node_api("store-nyc"), rma, {1: {"restock": 1}})

    # then: back on sale at the store, given to the waiting order, the first refunded
    wait_return(web_api, rma, "closed")
    wait_for(web_api, waiting, "released")
    assert stock(nodes["nyc"], "JKT") == (1, 1)
    assert stock(nodes["east"], "JKT") == (0, 0)
    assert restocks(nodes["nyc"], "JKT") == [1]
    assert [r["amount"] for r in web_api.get(f"/api/v1/returns/{rma}/refunds/").json()] == ["10.00"]
    summary = payment_summary(Order.objects.get(number=first))
    assert (summary.captured, summary.refunded) == (Decimal("10.00"), Decimal("10.00"))
    assert find_ledger_mismatches() == []


def test_r2_a_damaged_return_is_refunded_less_the_restocking_fee_and_not_restocked(
    worker, web_api, web_channel, nodes, policy
):
    create_return_policy(channel=web_channel, terms={"restocking_fee_percent": "10"}, actor=SYSTEM)
    stocked(nodes["east"], ProductFactory(sku="LAMP"), on_hand=5)
    number = place(web_api, "R2", [("LAMP", 2)], address=OHIO)
    wait_for(web_api, number, "completed")

    rma = open_return(web_api, number, [(1, 1, "changed_mind")])
    receive_and_inspect(node_api("dc-east"), rma, {1: {"damaged": 1}})

    wait_return(web_api, rma, "closed")
    [refund] = web_api.get(f"/api/v1/returns/{rma}/refunds/").json()
    assert (refund["status"], refund["amount"]) == ("succeeded", "9.00")
    assert refund["breakdown"]["restocking_fee"] == "1.00"
    assert stock(nodes["east"], "LAMP") == (3, 0)
    assert restocks(nodes["east"], "LAMP") == []
    summary = payment_summary(Order.objects.get(number=number))
    assert (summary.captured, summary.refunded, summary.refundable) == (
        Decimal("20.00"),
        Decimal("9.00"),
        Decimal("11.00"),
    )


def test_r3_an_even_exchange_ships_a_replacement_at_no_charge(worker, web_api, nodes, policy):
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=5)
    number = place(web_api, "R3", [("TEE", 1)], address=OHIO)
    wait_for(web_api, number, "completed")

    rma = open_return(web_api, number, [(1, 1, "size_fit")], exchange="even")
    receive_and_inspect(node_api("dc-east"), rma, {1: {"restock": 1}})

    wait_return(web_api, rma, "closed")
    replacement_number = web_api.get(f"/api/v1/returns/{rma}/").json()["exchange"][
        "replacement_order"
    ]
    wait_for(web_api, replacement_number, "completed")
    replacement = order(web_api, replacement_number)
    assert replacement["grand_total"] == "0.00"
    assert replacement["payment"]["status"] == "paid"
    assert not Refund.objects.exists()
    # 5 − 1 shipped + 1 restocked − 1 replacement shipped
    assert stock(nodes["east"], "TEE") == (4, 0)
    assert restocks(nodes["east"], "TEE") == [1]
    assert PaymentTransaction.objects.filter(order__number=replacement_number).count() == 0


def test_r4_an_advance_exchange_never_returned_is_charged(worker, web_api, nodes, policy):
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=5)
    number = place(web_api, "R4", [("TEE", 1)], address=OHIO)
    wait_for(web_api, number, "completed")

    rma = open_return(web_api, number, [(1, 1, "defective")], exchange="advance")
    replacement_number = web_api.get(f"/api/v1/returns/{rma}/").json()["exchange"][
        "replacement_order"
    ]
    wait_for(web_api, replacement_number, "delivered")
    # the window passes without the return arriving; the hourly sweep runs on the worker
    Exchange.objects.filter(rma__number=rma).update(due_at=timezone.now() - timedelta(hours=1))
    sweep_returns_task.delay()

    wait_return(web_api, rma, "closed")
    exchange = Exchange.objects.get(rma__number=rma)
    replacement = Order.objects.get(number=replacement_number)
    assert exchange.status == "charged"
    assert payment_summary(replacement).captured == Decimal("10.00")
    assert stock(nodes["east"], "TEE") == (3, 0)
    assert not Refund.objects.exists()
    sweep_returns_task.delay()  # a second sweep charges nothing more
    worker.wait_for("returns.tasks.sweep_returns_task")
    assert PaymentTransaction.objects.filter(order=replacement, kind="capture").count() == 1


def test_r4b_an_advance_exchange_back_in_time_completes_its_replacement_at_no_charge(
    worker, web_api, nodes, policy
):
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=5)
    number = place(web_api, "R4B", [("TEE", 1)], address=OHIO)
    wait_for(web_api, number, "completed")

    rma = open_return(web_api, number, [(1, 1, "defective")], exchange="advance")
    replacement_number = web_api.get(f"/api/v1/returns/{rma}/").json()["exchange"][
        "replacement_order"
    ]
    wait_for(web_api, replacement_number, "delivered")  # shipped before the return arrives
    receive_and_inspect(node_api("dc-east"), rma, {1: {"restock": 1}})

    wait_return(web_api, rma, "closed")
    wait_for(web_api, replacement_number, "completed")
    replacement = Order.objects.get(number=replacement_number)
    assert order(web_api, replacement_number)["payment"]["status"] == "paid"
    assert Exchange.objects.get(rma__number=rma).status == "completed"
    summary = payment_summary(replacement)
    assert (summary.authorized, summary.captured, summary.refunded) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    original = payment_summary(Order.objects.get(number=number))
    assert (original.captured, original.refunded) == (Decimal("10.00"), Decimal("0.00"))
    assert not Refund.objects.exists()
    # 5 − 1 shipped − 1 replacement shipped + 1 restocked
    assert stock(nodes["east"], "TEE") == (4, 0)
    # the window passing afterwards charges nothing
    Exchange.objects.filter(rma__number=rma).update(due_at=timezone.now() - timedelta(hours=1))
    sweep_returns_task.delay()
    worker.wait_for("returns.tasks.sweep_returns_task")
    assert PaymentTransaction.objects.filter(order=replacement).count() == 0


def test_r5_a_declined_refund_raises_a_case_and_is_refunded_once_after_a_retry(
    worker, web_api, nodes, policy
):
    stocked(nodes["east"], ProductFactory(sku="MUG"), on_hand=5)
    number = place(web_api, "R5", [("MUG", 1)], address=OHIO)
    wait_for(web_api, number, "completed")
    script_simulated_payment(order_number=number, kind="refund", outcome="decline")

    rma = open_return(web_api, number, [(1, 1, "changed_mind")])
    receive_and_inspect(node_api("dc-east"), rma, {1: {"restock": 1}})
    wait_until(
        lambda: Refund.objects.filter(rma__number=rma, status="failed").exists(),
        timeout=45,
        what="the refund to be declined",
    )
    case = ExceptionCase.objects.get(kind="payment_failed")
    # the cause is fixed (the provider's script is used up); the channel asks again
    retried = web_api.post(
        f"/api/v1/returns/{rma}/refunds/", {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )

    assert retried.status_code == 201, retried.json()
    assert (retried.json()["status"], retried.json()["amount"]) == ("succeeded", "10.00")
    assert case.status == "open"
    wait_return(web_api, rma, "closed")
    assert Refund.objects.filter(rma__number=rma).count() == 1
    assert list(
        PaymentTransaction.objects.filter(order__number=number, kind="refund")
        .order_by("id")
        .values_list("status", flat=True)
    ) == ["failed", "succeeded"]
    assert payment_summary(Order.objects.get(number=number)).refunded == Decimal("10.00")
    assert Return.objects.get(number=rma).status == "closed"
