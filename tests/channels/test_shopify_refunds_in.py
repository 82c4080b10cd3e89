"""Shopify `refunds/create` by line: Shopify's own refund fixtures (shared/corpus/shopify) of
order #1001, paid at Shopify (ADR 14) or authorized for oms to capture."""

import json

import pytest

from channels.models import OutboundCall
from erp.models import ErpDocument
from oms.events.handlers import dispatch
from oms.events.models import Event
from orders.models import Order, PaymentTransaction
from orders.selectors import payment_summary
from tests.channels.conftest import load, shopify_headers
from tests.corpus import needs
from tests.erp.test_erp_connector import erp  # noqa: F401 - the fake ERP fixture

pytestmark = [pytest.mark.django_db, needs("shopify")]

URL = "/webhooks/shopify/shopify-us/"


def send(client, body: dict, topic: str, delivery: str):
    raw = json.dumps(body, default=str).encode()
    return client.post(
        URL, raw, content_type="application/json", **shopify_headers(raw, topic, delivery)
    )


def order_1001(financial_status: str) -> dict:
    body = load("shopify/api_ruby__order.json")["order"]
    body["financial_status"] = financial_status
    return body


def test_a_refund_of_two_lines_at_shopify_is_recorded_with_its_lines_and_not_sent_back(
    client, shop, warehouse
):
    send(client, order_1001("paid"), "orders/create", "o-1")  # paid at Shopify
    order = Order.objects.get()
    refund = load("shopify/python_api__refund.json")["refund"]  # 209.00 for two lines

    answer = send(client, refund, "refunds/create", "r-1")
    again = send(client, refund, "refunds/create", "r-1")  # Shopify's retry

    [result] = answer.json()["results"]
    assert result["status"] == "recorded"
    assert result["refund"]["lines"] == [
        {"line_number": 3, "quantity": 1},  # line item 703073504
        {"line_number": 1, "quantity": 1},  # line item 466157049
    ]
    assert again.json()["results"][0]["duplicate"] is True
    [tx] = PaymentTransaction.objects.all()
    assert (tx.kind, tx.provider, str(tx.amount)) == ("refund", "platform", "209.0000")
    [event] = Event.objects.filter(stream=order.stream, type="order.payment_refunded")
    assert event.payload["lines"] == result["refund"]["lines"]
    assert event.actor_label == "channel:shopify-us"
    assert not OutboundCall.objects.filter(action="refund").exists()  # Shopify made it
    summary = payment_summary(order)
    assert (str(summary.refunded), str(summary.refundable)) == ("209.00", "399.94")


def test_units_refunded_with_cancel_are_cancelled_in_oms(client, shop, warehouse):
    send(client, order_1001("paid"), "orders/create", "o-1")  # captured, not routed yet
    order = Order.objects.get()
    refund = load(
        "shopify/api_ruby_rest_2026_07__refund__test_2__post_orders_450789469_refunds_json.json"
    )["refund"]
    refund["refund_line_items"][0]["restock_type"] = "cancel"  # line item 518995019, 1 unit

    answer = send(client, refund, "refunds/create", "r-2")

    [result] = answer.json()["results"]
    assert result["refund"]["cancelled_lines"] == [2]
    assert order.lines.get(line_number=2).status == "cancelled"
    assert set(order.lines.exclude(line_number=2).values_list("status", flat=True)) != {"cancelled"}
    assert str(PaymentTransaction.objects.get().amount) == "41.9400"


def test_a_refund_of_an_order_oms_holds_the_payment_of_is_noted(client, shop, warehouse):
    send(client, order_1001("authorized"), "orders/create", "o-1")
    refund = load("shopify/python_api__refund.json")["refund"]
    [result] = send(client, refund, "refunds/create", "r-1").json()["results"]
    assert result["status"] == "noted"
    assert not PaymentTransaction.objects.exists()


def test_a_refund_shopify_paid_gets_its_credit_memo_in_the_erp_once(
    client,
    shop,
    warehouse,
    erp,  # noqa: F811 - the fake ERP fixture imported above
    django_capture_on_commit_callbacks,
):
    send(client, order_1001("paid"), "orders/create", "o-1")  # paid at Shopify
    order = Order.objects.get()
    refund = load("shopify/python_api__refund.json")["refund"]  # 209.00 for two lines
    with django_capture_on_commit_callbacks(execute=True):
        send(client, refund, "refunds/create", "r-1")
        send(client, refund, "refunds/create", "r-2")  # the same refund in another delivery
    [tx] = PaymentTransaction.objects.filter(kind="refund")
    [memo] = ErpDocument.objects.filter(kind="credit_memo")
    assert (memo.number, memo.status, memo.payment_transaction_id) == (
        f"CM-P{tx.pk:08d}",
        "sent",
        tx.pk,
    )
    [sent] = erp.calls("POST", "/erp/documents")
    body = sent.body
    assert (body["type"], body["kind"], body["order"], body["total"], body["currency"]) == (
        "credit_memo",
        "platform_refund",
        order.number,
        "209.00",
        "USD",
    )
    assert [(x["line_number"], x["quantity"]) for x in body["returned_lines"]] == [(3, 1), (1, 1)]
    # the event handled again (a replay) queues nothing more
    event = Event.objects.get(stream=order.stream, type="order.payment_refunded")
    dispatch(event, order)
    assert ErpDocument.objects.filter(kind="credit_memo").count() == 1
