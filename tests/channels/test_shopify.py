"""Shopify through its public webhook endpoint and back through a local fake Shopify that
answers with the corpus' REST responses (shared/corpus/shopify)."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import OutboundCall, OutboundStatus
from channels.services.outbound import CallNotRetryable, queue_call, retry_call, send_call
from fulfillment.models import FulfillmentOrder
from integrations.inbound import reprocess_message
from integrations.models import InboundMessage, InboundStatus
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import ExceptionCase
from orders.models import Order
from tests.channels.conftest import SECRET, load, shopify_fulfillment_orders, shopify_headers
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("shopify")]

ORDER_FILE = "shopify/api_ruby__order.json"  # #1001, order 450789469 of Shopify's own docs
URL = "/webhooks/shopify/shopify-us/"


def order_body() -> bytes:
    return json.dumps(load(ORDER_FILE)["order"], default=str).encode()


def post(client, raw: bytes, topic: str = "orders/create", delivery: str = "d-1", secret=SECRET):
    return client.post(
        URL, raw, content_type="application/json", **shopify_headers(raw, topic, delivery, secret)
    )


def test_the_docs_order_twice_and_a_bad_signature_make_one_order_one_duplicate_one_401(
    client, shop, warehouse
):
    raw = order_body()
    first = post(client, raw, delivery="b5f1e2a0-0001")
    again = post(client, raw, delivery="b5f1e2a0-0001")  # Shopify's retry: the same delivery
    forged = post(client, raw, delivery="b5f1e2a0-0002", secret="not-the-secret")

    assert first.status_code == 200, first.content
    assert first.json()["results"][0]["status"] == "captured"
    assert again.status_code == 200
    assert again.json()["results"][0]["duplicate"] is True
    assert again.json()["results"][0]["order"] == first.json()["results"][0]["order"]
    assert forged.status_code == 401
    assert forged.json()["code"] == "invalid_signature"
    assert Order.objects.count() == 1
    # nothing stored for the forged one
    assert InboundMessage.objects.filter(source="channel:shopify-us").count() == 1


def test_the_same_order_in_another_delivery_is_acknowledged_as_a_duplicate(client, shop, warehouse):
    raw = order_body()
    post(client, raw, delivery="d-1")
    second = post(client, raw, topic="orders/updated", delivery="d-2")
    assert second.status_code == 200
    assert second.json()["results"][0] == {
        "status": "unchanged",
        "order": Order.objects.get().number,
    }
    assert Order.objects.count() == 1


def test_the_captured_order_is_the_canonical_one(client, shop, warehouse):
    post(client, order_body())
    order = Order.objects.get()
    lines = list(order.lines.order_by("line_number"))
    assert (order.external_id, order.currency, order.channel.code) == (
        "450789469",
        "USD",
        "shopify-us",
    )
    assert [(x.sku, x.quantity, x.unit_price, x.tax, x.external_line_id) for x in lines] == [
        ("IPOD2008GREEN", 1, Decimal("199.00"), Decimal("3.98"), "466157049"),
        ("IPOD2008RED", 1, Decimal("199.00"), Decimal("3.98"), "518995019"),
        ("IPOD2008BLACK", 1, Decimal("199.00"), Decimal("3.98"), "703073504"),
    ]
    # the order's tax (11.94, stated only on the order) is spread over the lines
    assert (order.subtotal, order.tax_total, order.shipping_total) == (
        Decimal("597.00"),
        Decimal("11.94"),
        Decimal("0.00"),
    )
    assert (
        order.ship_line1,
        order.ship_city,
        order.ship_region,
        order.ship_postal_code,
        order.ship_country,
    ) == (
        "Chestnut Street 92",
        "Louisville",
        "KY",
        "40202",
        "US",
    )
    assert order.customer_email == "bob.norman@hostmail.com"
    assert order.payment_status == "authorized"


def test_a_webhook_without_a_known_channel_is_404_and_unsigned_is_401(client, shop):
    raw = order_body()
    assert (
        client.post("/webhooks/shopify/nope/", raw, content_type="application/json").status_code
        == 404
    )
    assert client.post(URL, raw, content_type="application/json").status_code == 401
    assert (
        client.post(
            "/webhooks/woocommerce/shopify-us/", raw, content_type="application/json"
        ).status_code
        == 404
    )


def test_an_unknown_sku_is_refused_with_its_code_raises_a_case_and_is_reprocessed_after_the_fix(
    client, shop, warehouse
):
    body = load(ORDER_FILE)["order"]
    body["line_items"][0]["sku"] = "IPOD2030SILVER"
    raw = json.dumps(body, default=str).encode()

    answer = post(client, raw)

    assert answer.status_code == 200
    assert answer.json()["results"][0]["status"] == "refused"
    assert answer.json()["results"][0]["code"] == "unknown_sku"
    message = InboundMessage.objects.get(source="channel:shopify-us")
    assert (message.status, message.error_code) == (InboundStatus.DEAD, "unknown_sku")
    case = ExceptionCase.objects.get(kind="integration_failed")
    assert "unknown_sku" in case.summary
    assert not Order.objects.exists()

    # the fix: map the platform's SKU to ours, then re-process the kept message
    shop.settings = {"sku_map": {"IPOD2030SILVER": "IPOD2008GREEN"}}
    shop.save(update_fields=["settings"])
    reprocess_message(message_id=message.pk, actor=Actor.system("test"))

    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED
    assert Order.objects.get().lines.filter(sku="IPOD2008GREEN").exists()


def test_a_missing_address_and_an_unknown_currency_are_refused_with_their_codes(
    client, shop, warehouse
):
    body = load(ORDER_FILE)["order"]
    body["shipping_address"] = None
    missing = post(client, json.dumps(body, default=str).encode(), delivery="a")
    body = load(ORDER_FILE)["order"]
    body["currency"] = "XQQ"
    unknown = post(client, json.dumps(body, default=str).encode(), delivery="b")
    assert missing.json()["results"][0]["code"] == "shipping_address_required"
    assert unknown.json()["results"][0]["code"] == "unknown_currency"


def test_shipped_through_the_simulated_wms_reaches_shopify_as_a_fulfillment_with_tracking(
    client, shop, warehouse, fake, django_capture_on_commit_callbacks
):
    fake.answer(
        "GET",
        r"/admin/api/2026-07/orders/450789469/fulfillment_orders\.json",
        shopify_fulfillment_orders(),
    )
    fake.answer(
        "POST",
        r"/admin/api/2026-07/fulfillments\.json",
        corpus("shopify/api_ruby_rest_2026_07__fulfillment__test_6__post_fulfillments_json.json"),
        status=201,
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(client, order_body())

    order = Order.objects.get()
    fo = FulfillmentOrder.objects.get(order=order)
    assert fo.status in ("shipped", "delivered"), fo.status
    tracking = fo.shipments.get().tracking_number
    call = OutboundCall.objects.get(action="fulfill")
    assert call.status == OutboundStatus.SENT, call.last_error
    [sent] = fake.calls("POST", r"/admin/api/2026-07/fulfillments\.json")
    assert sent.headers["x-shopify-access-token"] == "shpat_test_token"
    fulfillment = sent.body["fulfillment"]
    assert fulfillment["tracking_info"]["number"] == tracking
    assert fulfillment["line_items_by_fulfillment_order"] == [
        {
            "fulfillment_order_id": 1046000780,
            "fulfillment_order_line_items": [
                {"id": 1072503277, "quantity": 1},
                {"id": 1072503278, "quantity": 1},
                {"id": 1072503279, "quantity": 1},
            ],
        }
    ]
    assert call.response["fulfillment_id"] == 1069019877


def test_a_refund_reaches_shopify_once_although_it_answers_500_twice_first(
    client, shop, warehouse, fake, django_capture_on_commit_callbacks
):
    post(client, order_body())
    order = Order.objects.get()
    fake.answer(
        "GET",
        r"/admin/api/2026-07/orders/450789469/transactions\.json",
        corpus(
            "shopify/api_ruby_rest_2026_07__transaction__test_1__get_orders_450789469_transactions_json.json"
        ),
    )
    refunds = r"/admin/api/2026-07/orders/450789469/refunds\.json"
    fake.answer(
        "GET",
        refunds,
        corpus(
            "shopify/api_ruby_rest_2026_07__refund__test_1__get_orders_450789469_refunds_json.json"
        ),
    )  # an earlier refund, not ours
    fake.answer(
        "POST",
        refunds,
        corpus(
            "shopify/api_ruby_rest_2026_07__refund__test_2__post_orders_450789469_refunds_json.json"
        ),
        status=201,
    )
    fake.fail_first("POST", refunds, times=2)
    from django.db import transaction

    with transaction.atomic():
        call = queue_call(
            connection=shop,
            order=order,
            action="refund",
            payload={"amount": "10.00", "currency": "USD", "reason": "damaged"},
        )
    statuses = []
    for _ in range(4):
        OutboundCall.objects.filter(pk=call.pk, status="pending").update(
            next_attempt_at=timezone.now()
        )
        statuses.append(send_call(call.pk))
    call.refresh_from_db()
    assert statuses == ["pending", "pending", "sent", None]
    assert call.attempts == 3
    ok = fake.calls("POST", refunds)
    assert len(ok) == 3  # two refused with 500, one accepted: the refund exists once
    refund = ok[-1].body["refund"]
    assert refund["transactions"][0]["parent_id"] == 801038806  # the capture
    assert refund["transactions"][0]["amount"] == "10.00"
    assert refund["note"] == f"damaged [oms:{order.pk}:call-{call.pk}]"


def test_a_refund_retried_after_a_lost_answer_is_found_at_shopify_and_not_made_again(
    client, shop, warehouse, fake
):
    post(client, order_body())
    order = Order.objects.get()
    refunds = r"/admin/api/2026-07/orders/450789469/refunds\.json"
    listing = load(
        "shopify/api_ruby_rest_2026_07__refund__test_1__get_orders_450789469_refunds_json.json"
    )
    fake.answer("GET", refunds, lambda shopify: listing)
    from django.db import transaction

    with transaction.atomic():
        call = queue_call(
            connection=shop,
            order=order,
            action="refund",
            payload={
                "amount": "10.00",
                "currency": "USD",
                "reason": "damaged",
                "order": order.number,
                "transaction": 7,
            },
        )
    # Shopify made the refund, but its answer was lost: it lists it with the mark now
    listing["refunds"][0]["note"] = f"damaged [oms:{order.number}:7]"

    OutboundCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())
    assert send_call(call.pk) == "sent"
    call.refresh_from_db()
    assert call.response["already_there"] is True
    assert call.response["refund_id"] == 509562969
    assert fake.calls("POST", refunds) == []


def test_a_call_that_keeps_failing_is_dead_with_a_case(shop, warehouse, fake, client, settings):
    settings.OMS_CHANNELS_MAX_ATTEMPTS = 2
    post(client, order_body())
    order = Order.objects.get()
    from django.db import transaction

    with transaction.atomic():
        call = queue_call(connection=shop, order=order, action="cancel", payload={})
    fake.answer("POST", r"/admin/api/2026-07/orders/450789469/cancel\.json", {}, status=503)
    for _ in range(2):
        OutboundCall.objects.filter(pk=call.pk, status="pending").update(
            next_attempt_at=timezone.now()
        )
        send_call(call.pk)
    call.refresh_from_db()
    assert call.status == OutboundStatus.DEAD
    case = ExceptionCase.objects.get(kind="integration_failed", order=order)
    assert "cancel" in case.summary
    with pytest.raises(AttributeError):
        call.status = OutboundStatus.PENDING  # only the transitions move it

    # A person fixes the cause and sends it again: pending with a fresh budget, then sent
    person = Actor.system("cs-rep")
    fake.answer("POST", r"/admin/api/2026-07/orders/450789469/cancel\.json", {"order": {}})
    call = retry_call(call_id=call.pk, actor=person)
    assert (call.status, call.attempts) == (OutboundStatus.PENDING, 0)
    with pytest.raises(CallNotRetryable):
        retry_call(call_id=call.pk, actor=person)
    assert send_call(call.pk) == "sent"
    call.refresh_from_db()
    assert (call.status, call.last_status_code, call.next_attempt_at) == ("sent", 200, None)
    stream = Event.objects.filter(stream=f"channel-call:{call.pk}").order_by("seq")
    assert [e.type for e in stream] == [
        "channel.call_dead",
        "channel.call_retried",
        "channel.call_sent",
    ]
    retried = stream.get(type="channel.call_retried")
    assert (retried.actor_kind, retried.actor_label) == ("system", "cs-rep")
    assert retried.payload == {
        "call_id": call.pk,
        "channel": shop.channel.code,
        "order": order.number,
        "action": "cancel",
    }


def test_orders_cancelled_cancels_the_open_lines_and_is_not_sent_back(client, shop, warehouse):
    post(client, order_body())  # no stock reserved yet: captured, not routed
    order = Order.objects.get()
    raw = json.dumps(
        load(
            "shopify/api_ruby_rest_2026_07__order__test_14__post_orders_450789469_cancel_json.json"
        )["order"],
        default=str,
    ).encode()

    answer = post(client, raw, topic="orders/cancelled", delivery="c-1")

    assert answer.json()["results"][0]["status"] == "cancelled"
    assert set(order.lines.values_list("status", flat=True)) == {"cancelled"}
    assert not OutboundCall.objects.filter(action="cancel").exists()


def test_refunds_create_is_noted_with_the_order(client, shop, warehouse):
    post(client, order_body())
    raw = json.dumps(load("shopify/python_api__refund.json")["refund"], default=str).encode()
    answer = post(client, raw, topic="refunds/create", delivery="r-1")
    [result] = answer.json()["results"]
    assert result["status"] == "noted"
    assert result["order"] == Order.objects.get().number


def test_an_unsubscribed_topic_is_acknowledged_and_ignored(client, shop):
    answer = post(client, order_body(), topic="orders/paid", delivery="x-1")
    assert answer.json()["results"] == [{"status": "ignored"}]
    assert not InboundMessage.objects.exists()
