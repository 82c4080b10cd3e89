"""Refunds back to Magento 2 and commercetools, driven by the real `order.payment_refunded`
event (orders/services/payments.py refund_payment): the order comes in through the platform's
corpus payload, ships through the simulated WMS, is paid, and a refund in oms reaches the fake
platform once although it answers 500 twice first."""

import json
from decimal import Decimal
from typing import Any

import pytest

from channels.models import OutboundCall, OutboundStatus
from channels.services.setup import create_channel
from oms.core.actors import Actor
from ops.models import ExceptionCase
from orders.models import Order, PaymentStatus
from orders.services.payments import capture_payment, refund_payment
from tests.channels.conftest import send_until_done, shopify_fulfillment_orders
from tests.channels.platforms import SECRET, post
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("magento"), needs("commercetools")]

FINANCE = Actor.system("finance")
MAGENTO_ORDER = (
    "magento/orders__order-create-order__L86_review_the_order_as_an_admin"
    "__elided_items_removed.json"
)
CT_ORDER_ID = "92f5a867-bf19-47ab-982c-6720a03a3921"
CT_PAYMENT_ID = "5b5e6dbd-4d6e-4f8a-9d1e-3a1f0c2b7e10"


def load(part: str) -> Any:
    return json.loads(corpus(part).read_text(), parse_float=Decimal)


def paid_and_refunded(amount: str, reason: str) -> Order:
    """The shipped order's payment (captured on shipment; captured here when it is not), then
    `amount` refunded through the one refund service."""
    order = Order.objects.get()
    if order.payment_status != PaymentStatus.PAID:
        capture_payment(
            order_id=order.pk,
            amount=order.grand_total,
            actor=FINANCE,
            idempotency_key="cap-1",
            settles_order=True,
        )
    refund_payment(
        order_id=order.pk,
        amount=Decimal(amount),
        actor=FINANCE,
        reason=reason,
        idempotency_key="ref-1",
    )
    return order


# --- Magento 2 --------------------------------------------------------------------------------


@pytest.fixture
def magento_order(client, warehouse, fake, django_capture_on_commit_callbacks) -> Order:
    create_channel(
        code="magento",
        platform="magento",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/rest/default/V1",
        credentials="integration-token",
    )
    fake.answer("POST", "/rest/default/V1/order/3/ship", "42")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "magento", "magento", load(MAGENTO_ORDER))
    return Order.objects.get()


def test_a_refund_reaches_magento_once_as_an_offline_credit_memo_after_two_500s(
    magento_order, fake, django_capture_on_commit_callbacks
):
    refunds = "/rest/default/V1/order/3/refund"
    fake.answer("POST", refunds, 17)  # salesRefundOrderV1 answers the credit memo id
    fake.fail_first("POST", refunds, times=2)

    with django_capture_on_commit_callbacks(execute=True):  # the first attempt, on commit
        paid_and_refunded("25.00", "damaged in transit")

    call = OutboundCall.objects.get(action="refund")
    assert call.event.type == "order.payment_refunded"
    assert (call.status, call.attempts, call.last_status_code) == ("pending", 1, 500)
    assert send_until_done(call) == ["pending", "sent", None, None]
    call.refresh_from_db()
    assert (call.status, call.attempts) == (OutboundStatus.SENT, 3)
    assert call.response["creditmemo_id"] == 17

    received = fake.calls("POST", refunds)
    assert len(received) == 3  # two refused with 500, one accepted: one credit memo
    assert len({json.dumps(r.body, sort_keys=True) for r in received}) == 1  # the same call
    body = received[-1].body
    assert received[-1].headers["authorization"] == "Bearer integration-token"
    # An amount, not lines: every item with qty 0 (an empty list would refund every item).
    assert body["items"] == [{"order_item_id": 3, "qty": 0}]
    assert body["arguments"] == {
        "shipping_amount": 0,
        "adjustment_positive": "25.00",
        "adjustment_negative": 0,
    }
    assert body["notify"] is True
    assert "damaged in transit" in body["comment"]["comment"]
    # The corpus documents the same endpoint and argument names (a partial refund by item).
    documented = load(
        "magento/orders__order-issue-refund__01_step_10_issue_a_partial_refund_payload.json"
    )
    assert set(body["arguments"]) <= set(documented["arguments"])
    assert set(body["items"][0]) == set(documented["items"][0])


def test_a_magento_refund_refused_with_a_400_is_dead_with_a_case(
    magento_order, fake, django_capture_on_commit_callbacks
):
    fake.answer(
        "POST",
        "/rest/default/V1/order/3/refund",
        {"message": "The credit memo's total must be positive."},
        status=400,
    )
    with django_capture_on_commit_callbacks(execute=True):
        paid_and_refunded("5.00", "goodwill")
    call = OutboundCall.objects.get(action="refund")
    assert (call.status, call.attempts, call.last_status_code) == ("dead", 1, 400)
    assert ExceptionCase.objects.filter(kind="integration_failed", order=magento_order).exists()


def test_a_magento_refund_without_item_ids_is_never_sent_as_an_empty_items_list(
    magento_order, fake, django_capture_on_commit_callbacks
):
    """Magento reads an empty `items` list as "refund every item": such a call is dead with a
    case instead of sent."""
    magento_order.lines.update(external_line_id="")
    fake.answer("POST", "/rest/default/V1/order/3/refund", 18)
    with django_capture_on_commit_callbacks(execute=True):
        paid_and_refunded("5.00", "goodwill")
    call = OutboundCall.objects.get(action="refund")
    assert call.status == OutboundStatus.DEAD
    assert "empty items list" in call.last_error
    assert fake.calls("POST", "/rest/default/V1/order/3/refund") == []
    assert ExceptionCase.objects.filter(kind="integration_failed", order=magento_order).exists()


# --- commercetools ----------------------------------------------------------------------------


def ct_payment(transactions: list[dict[str, Any]], version: int) -> dict[str, Any]:
    """A Payment resource as commercetools' HTTP API returns it (shape per its API reference)."""
    return {
        "id": CT_PAYMENT_ID,
        "version": version,
        "amountPlanned": {
            "type": "centPrecision",
            "currencyCode": "EUR",
            "centAmount": 1000,
            "fractionDigits": 2,
        },
        "paymentMethodInfo": {"paymentInterface": "psp", "method": "card"},
        "paymentStatus": {},
        "transactions": transactions,
        "interfaceInteractions": [],
        "createdAt": "2026-11-30T10:00:00.000Z",
        "lastModifiedAt": "2026-11-30T10:00:00.000Z",
    }


CHARGE = {
    "id": "0c6e1b8f-1111-4c8e-9a77-2f0d6a0b0001",
    "timestamp": "2026-11-30T10:00:00.000Z",
    "type": "Charge",
    "amount": {
        "type": "centPrecision",
        "currencyCode": "EUR",
        "centAmount": 1000,
        "fractionDigits": 2,
    },
    "interactionId": "psp-charge-1",
    "state": "Success",
}


@pytest.fixture
def ct_order(client, warehouse, fake, django_capture_on_commit_callbacks) -> Order:
    create_channel(
        code="ct",
        platform="commercetools",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/my-project",
        credentials="ct-token",
    )
    order = load("commercetools/order.example.json")
    order["shippingAddress"] = {  # the corpus order has none (see golden.json)
        "firstName": "Erika",
        "lastName": "Muster",
        "streetName": "Friedrichstr.",
        "streetNumber": "68",
        "postalCode": "10117",
        "city": "Berlin",
        "country": "DE",
    }
    order["paymentInfo"] = {"payments": [{"typeId": "payment", "id": CT_PAYMENT_ID}]}
    path = f"/my-project/orders/{CT_ORDER_ID}"
    fake.answer("GET", path, {**order, "version": 7})
    fake.answer("POST", path, {**order, "version": 8})
    message = {"type": "OrderCreated", "id": "2723ca8f-283c-4add-90bc-0978d195ed3c", "order": order}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "commercetools", "ct", message)
    assert OutboundCall.objects.get(action="fulfill").status == "sent"
    return Order.objects.get()


def test_a_refund_reaches_commercetools_once_as_a_refund_transaction_after_two_500s(
    ct_order, fake, django_capture_on_commit_callbacks
):
    payment = f"/my-project/payments/{CT_PAYMENT_ID}"
    fake.answer("GET", payment, ct_payment([CHARGE], version=3))
    interaction = f"oms:{ct_order.number}:"
    fake.answer("POST", payment, ct_payment([CHARGE], version=4))
    fake.fail_first("POST", payment, times=2)

    with django_capture_on_commit_callbacks(execute=True):
        paid_and_refunded("4.50", "late delivery")

    call = OutboundCall.objects.get(action="refund")
    assert call.event.type == "order.payment_refunded"
    assert (call.status, call.attempts, call.last_status_code) == ("pending", 1, 500)
    assert send_until_done(call) == ["pending", "sent", None, None]
    call.refresh_from_db()
    assert (call.status, call.attempts) == (OutboundStatus.SENT, 3)

    received = fake.calls("POST", payment)
    assert len(received) == 3  # two refused with 500, one accepted: one Refund transaction
    assert received[-1].headers["authorization"] == "Bearer ct-token"
    body = received[-1].body
    assert body["version"] == 3  # the payment's version, read before each attempt
    [action] = body["actions"]
    assert action["action"] == "addTransaction"
    transaction = action["transaction"]
    assert transaction["type"] == "Refund"
    assert transaction["state"] == "Success"
    assert transaction["amount"] == {
        "type": "centPrecision",
        "currencyCode": "EUR",
        "centAmount": 450,
        "fractionDigits": 2,
    }
    assert transaction["interactionId"].startswith(interaction)
    assert call.response["payment"] == CT_PAYMENT_ID
    # The order's own update (the delivery) was not touched by the refund.
    assert len(fake.calls("POST", f"/my-project/orders/{CT_ORDER_ID}")) == 1


def test_a_commercetools_refund_already_on_the_payment_is_not_added_again(
    ct_order, fake, django_capture_on_commit_callbacks
):
    """An accepted addTransaction whose answer was lost: the next attempt finds the refund on
    the payment by its interactionId and adds nothing."""
    payment = f"/my-project/payments/{CT_PAYMENT_ID}"
    fake.answer("GET", payment, ct_payment([CHARGE], version=3))
    fake.fail_first("GET", payment, times=1)
    fake.answer("POST", payment, {}, status=500)  # any POST would be a second refund
    with django_capture_on_commit_callbacks(execute=True):
        paid_and_refunded("1.00", "r")
    call = OutboundCall.objects.get(action="refund")
    assert (call.status, call.attempts) == ("pending", 1)
    existing = {
        **CHARGE,
        "id": "0c6e1b8f-3333-4c8e-9a77-2f0d6a0b0003",
        "type": "Refund",
        "amount": {**CHARGE["amount"], "centAmount": 100},
        "interactionId": f"oms:{ct_order.number}:{call.payload['transaction']}",
    }
    fake.answer("GET", payment, ct_payment([CHARGE, existing], version=4))
    assert send_until_done(call, times=2) == ["sent", None]
    call.refresh_from_db()
    assert call.response["already"] is True
    assert call.response["transaction"] == existing["id"]
    assert fake.calls("POST", payment) == []


def test_a_commercetools_order_without_a_payment_makes_the_refund_dead_with_a_case(
    ct_order, fake, django_capture_on_commit_callbacks
):
    order_json = load("commercetools/order.example.json")  # no paymentInfo
    fake.answer("GET", f"/my-project/orders/{CT_ORDER_ID}", {**order_json, "version": 9})
    with django_capture_on_commit_callbacks(execute=True):
        paid_and_refunded("1.00", "r")
    call = OutboundCall.objects.get(action="refund")
    assert call.status == OutboundStatus.DEAD
    assert "no payment" in call.last_error
    assert ExceptionCase.objects.filter(kind="integration_failed", order=ct_order).exists()


def test_amazon_takes_no_refund_call_back():
    """SP-API has no call that records a refund made elsewhere (docs/channels.md): nothing is
    queued for an Amazon order's refund rather than a made-up call."""
    from channels.adapters.base import adapter_for

    assert "refund" not in adapter_for("amazon").actions
    assert {"refund"} <= adapter_for("magento").actions & adapter_for("commercetools").actions


# --- Shopify: the same real event reaches the platforms that took refunds already -----------


@needs("shopify")
def test_a_refund_made_in_oms_reaches_shopify_once_after_two_500s(
    client, warehouse, fake, django_capture_on_commit_callbacks
):
    """Order #1001 of Shopify's docs comes in authorized, is captured when it ships, then
    refunded in oms: before, `order.payment_refunded` was recorded without a subject and no
    handler ran (the Shopify test queued its refund by hand)."""
    create_channel(
        code="shopify-us",
        platform="shopify",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/admin/api/2026-07",
        credentials="shpat_test_token",
    )
    api = "/admin/api/2026-07"
    fake.answer(
        "GET",
        rf"{api}/orders/450789469/fulfillment_orders\.json",
        shopify_fulfillment_orders(),
    )
    fake.answer(
        "POST",
        rf"{api}/fulfillments\.json",
        corpus("shopify/api_ruby_rest_2026_07__fulfillment__test_6__post_fulfillments_json.json"),
        status=201,
    )
    fake.answer(
        "GET",
        rf"{api}/orders/450789469/transactions\.json",
        corpus(
            "shopify/api_ruby_rest_2026_07__transaction__test_1__get_orders_450789469_transactions_json.json"
        ),
    )
    refunds = rf"{api}/orders/450789469/refunds\.json"
    fake.answer(
        "GET",
        refunds,
        corpus(
            "shopify/api_ruby_rest_2026_07__refund__test_1__get_orders_450789469_refunds_json.json"
        ),
    )
    fake.answer(
        "POST",
        refunds,
        corpus(
            "shopify/api_ruby_rest_2026_07__refund__test_2__post_orders_450789469_refunds_json.json"
        ),
        status=201,
    )
    fake.fail_first("POST", refunds, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "shopify", "shopify-us", load("shopify/api_ruby__order.json")["order"])
    assert Order.objects.get().payment_status == PaymentStatus.PAID  # captured on shipment
    with django_capture_on_commit_callbacks(execute=True):
        paid_and_refunded("10.00", "damaged")

    call = OutboundCall.objects.get(action="refund")
    assert call.event.type == "order.payment_refunded"
    assert send_until_done(call) == ["pending", "sent", None, None]
    received = fake.calls("POST", refunds)
    assert len(received) == 3  # two refused with 500, one accepted: one refund
    transaction = received[-1].body["refund"]["transactions"][0]
    assert (transaction["amount"], transaction["parent_id"]) == ("10.00", 801038806)
