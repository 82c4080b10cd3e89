"""Per platform: an order in through the platform's real payload (corpus), shipped by the
simulated WMS, and the fake platform receives the fulfillment with the tracking number in its
own format. Refunds and re-reads where the platform has them."""

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from channels.models import OutboundCall, OutboundStatus
from channels.services.outbound import queue_call, send_call
from channels.services.polling import poll_channel
from channels.services.setup import create_channel
from fulfillment.models import FulfillmentOrder
from integrations.models import InboundMessage
from orders.models import LineStatus, Order
from tests.channels.platforms import SECRET, post
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("woocommerce")]


def load(part: str) -> Any:
    return json.loads(corpus(part).read_text(), parse_float=Decimal)


def shipped(order: Order) -> str:
    fo = FulfillmentOrder.objects.get(order=order)
    assert fo.status in ("shipped", "delivered"), fo.status
    return fo.shipments.get().tracking_number


def test_woocommerce_order_shipped_becomes_a_tracking_note_and_completed(
    client, warehouse, fake, django_capture_on_commit_callbacks
):
    from tests.factories.inventory import ProductFactory, stocked

    stocked(warehouse, ProductFactory(sku="WOO-SINGLE-1"), on_hand=5)
    create_channel(
        code="woo",
        platform="woocommerce",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/wp-json/wc/v3",
        credentials="ck_test:cs_test",
        settings={"sku_map": {"93": "WOO-SINGLE-1"}},
    )
    fake.answer(
        "POST",
        "/wp-json/wc/v3/orders/727/notes",
        corpus("woocommerce/wp_api_v3__order-notes__create_an_order_note.json"),
        status=201,
    )
    fake.answer(
        "PUT",
        "/wp-json/wc/v3/orders/727",
        corpus("woocommerce/wp_api_v3__orders__update_an_order.json"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(
            client,
            "woocommerce",
            "woo",
            load("woocommerce/wp_api_v3__orders__create_an_order.json"),
        )
    assert answer.json()["results"][0]["status"] == "captured"
    tracking = shipped(Order.objects.get())
    [note] = fake.calls("POST", "/wp-json/wc/v3/orders/727/notes")
    assert tracking in note.body["note"]
    assert note.body["customer_note"] is True
    assert note.headers["authorization"].startswith("Basic ")
    [done] = fake.calls("PUT", "/wp-json/wc/v3/orders/727")
    assert done.body == {"status": "completed"}
    assert OutboundCall.objects.get(action="fulfill").response["status"] == "completed"


def test_woocommerce_refund_reaches_the_store_once_after_two_500s(client, warehouse, fake):
    from tests.factories.inventory import ProductFactory, stocked

    stocked(warehouse, ProductFactory(sku="WOO-SINGLE-1"), on_hand=5)
    connection = create_channel(
        code="woo",
        platform="woocommerce",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/wp-json/wc/v3",
        credentials="ck_test:cs_test",
        settings={"sku_map": {"93": "WOO-SINGLE-1"}},
    )
    post(client, "woocommerce", "woo", load("woocommerce/wp_api_v3__orders__create_an_order.json"))
    refunds = "/wp-json/wc/v3/orders/727/refunds"
    fake.answer(
        "GET", refunds, corpus("woocommerce/wp_api_v3__order-refunds__list_all_refunds.json")
    )
    fake.answer(
        "POST", refunds, corpus("woocommerce/wp_api_v3__order-refunds__create_a_refund.json"), 201
    )
    fake.fail_first("POST", refunds, times=2)
    with transaction.atomic():
        call = queue_call(
            connection=connection,
            order=Order.objects.get(),
            action="refund",
            payload={"amount": "10.00", "currency": "USD", "reason": "damaged"},
        )
    statuses = []
    for _ in range(4):
        OutboundCall.objects.filter(pk=call.pk, status="pending").update(
            next_attempt_at=timezone.now()
        )
        statuses.append(send_call(call.pk))
    assert statuses == ["pending", "pending", "sent", None]
    assert [r.body["amount"] for r in fake.calls("POST", refunds)] == ["10.00"] * 3
    call.refresh_from_db()
    assert call.response["refund_id"] == 726  # the corpus refund's id


def test_magento_order_shipped_becomes_a_shipment_with_its_track(
    client, warehouse, fake, django_capture_on_commit_callbacks
):
    create_channel(
        code="magento",
        platform="magento",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/rest/default/V1",
        credentials="integration-token",
    )
    fake.answer("POST", "/rest/default/V1/order/3/ship", "42")
    order_json = load(
        "magento/orders__order-create-order__L86_review_the_order_as_an_admin__elided_items_removed.json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "magento", "magento", order_json)
    tracking = shipped(Order.objects.get())
    [ship] = fake.calls("POST", "/rest/default/V1/order/3/ship")
    assert ship.headers["authorization"] == "Bearer integration-token"
    assert ship.body["items"] == [{"order_item_id": 3, "qty": 1}]
    assert ship.body["tracks"][0]["track_number"] == tracking


def test_commercetools_order_created_shipped_becomes_a_delivery_with_a_parcel(
    client, warehouse, fake, django_capture_on_commit_callbacks
):
    create_channel(
        code="ct",
        platform="commercetools",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/my-project",
        credentials="ct-token",
    )
    order = load("commercetools/order.example.json")
    # The corpus order has no shipping address (a refused message, see golden.json); the
    # project's checkout always sets one:
    order["shippingAddress"] = {
        "firstName": "Erika",
        "lastName": "Muster",
        "streetName": "Friedrichstr.",
        "streetNumber": "68",
        "postalCode": "10117",
        "city": "Berlin",
        "country": "DE",
    }
    fake.answer(
        "GET", "/my-project/orders/92f5a867-bf19-47ab-982c-6720a03a3921", {**order, "version": 7}
    )
    fake.answer(
        "POST", "/my-project/orders/92f5a867-bf19-47ab-982c-6720a03a3921", {**order, "version": 8}
    )
    message = {"type": "OrderCreated", "id": "2723ca8f-283c-4add-90bc-0978d195ed3c", "order": order}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "commercetools", "ct", message)
    tracking = shipped(Order.objects.get())
    [update] = fake.calls("POST", "/my-project/orders/92f5a867-bf19-47ab-982c-6720a03a3921")
    assert update.body["version"] == 7
    delivery, state = update.body["actions"]
    assert delivery["action"] == "addDelivery"
    assert delivery["items"] == [{"id": "7297c742-d8b0-484b-aadc-1d0ba1869dc9", "quantity": 1}]
    assert delivery["parcels"][0]["trackingData"]["trackingId"] == tracking
    assert state == {"action": "changeShipmentState", "shipmentState": "Shipped"}


def _amazon(fake) -> Any:
    def response(name: str) -> Any:
        return load(f"amazon/{name}")["response"]

    fake.answer("POST", "/auth/o2/token", {"access_token": "Atza|test", "token_type": "bearer"})
    fake.answer("GET", "/orders/v0/orders", response("spapi_ordersV0__getOrders__sandbox1.json"))
    fake.answer(
        "GET",
        r"/orders/v0/orders/[^/]+/orderItems",
        response("spapi_ordersV0__getOrderItems__sandbox1.json"),
    )
    fake.answer(
        "GET",
        r"/orders/v0/orders/[^/]+/address",
        response("spapi_ordersV0__getOrderAddress__sandbox1.json"),
    )
    return create_channel(
        code="amazon-us",
        platform="amazon",
        webhook_secret=SECRET,
        base_url=fake.base_url,
        credentials=json.dumps(
            {"client_id": "amzn1.app", "client_secret": "s", "refresh_token": "Atzr|r"}
        ),
        settings={"lwa_endpoint": f"{fake.base_url}/auth/o2/token", "fetch_address": True},
    )


def test_amazon_polled_orders_ship_back_as_shipment_confirmations(
    warehouse, fake, django_capture_on_commit_callbacks
):
    from tests.factories.inventory import ProductFactory, stocked

    stocked(warehouse, ProductFactory(sku="NABetaASINB00551Q3CS"), on_hand=5)
    connection = _amazon(fake)
    connection.cursor = "1970-01-01T00:00:00Z"  # the stored cursor (the sandbox orders are old)
    connection.save(update_fields=["cursor"])
    fake.answer("POST", r"/orders/v0/orders/[^/]+/shipmentConfirmation", {}, status=204)
    with django_capture_on_commit_callbacks(execute=True):
        counts = poll_channel(connection_id=connection.pk)
    assert counts["captured"] == 2
    connection.refresh_from_db()
    assert connection.cursor == "1970-01-19T03:58:32Z"  # the newest LastUpdateDate seen
    listing = fake.calls("GET", "/orders/v0/orders")[0]
    assert "LastUpdatedAfter=1970-01-01T00%3A00%3A00Z" in listing.query
    # one LWA exchange for the poll, one per shipment confirmation
    tokens = fake.calls("POST", "/auth/o2/token")
    assert len(tokens) == 3
    token = tokens[0]
    assert "grant_type=refresh_token" in token.body
    assert "refresh_token=Atzr%7Cr" in token.body
    confirmations = fake.calls("POST", r"/orders/v0/orders/[^/]+/shipmentConfirmation")
    assert len(confirmations) == 2
    first = confirmations[0]
    assert first.headers["x-amz-access-token"] == "Atza|test"
    order = Order.objects.get(external_id=first.path.split("/")[4])
    assert first.body["packageDetail"]["trackingNumber"] == shipped(order)
    assert first.body["packageDetail"]["orderItems"] == [
        {"orderItemId": "05015851154158", "quantity": 1}
    ]

    # polled again from the new cursor: the same orders are duplicates in the log
    again = poll_channel(connection_id=connection.pk)
    assert again.get("captured", 0) == 0
    assert Order.objects.count() == 2


def test_amazon_order_change_re_reads_the_order_and_cancels_it(client, warehouse, fake):
    from tests.factories.inventory import ProductFactory

    ProductFactory(sku="NABetaASINB00551Q3CS")  # not in stock: the order stays backordered
    connection = _amazon(fake)
    poll_channel(connection_id=connection.pk)
    [notice] = load("amazon/notification_ORDER_CHANGE__example.json")
    order_id = "902-1845936-5435065"
    notice["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = order_id
    cancelled = load("amazon/spapi_ordersV0__getOrder__sandbox1.json")["response"]
    cancelled["payload"]["OrderStatus"] = "Canceled"  # what the buyer's cancel leads to
    fake.answer("GET", f"/orders/v0/orders/{order_id}", cancelled)

    answer = post(client, "amazon", "amazon-us", [notice], delivery="n-1")

    assert answer.status_code == 200
    assert answer.json()["results"][0]["status"] == "cancelled"
    order = Order.objects.get(external_id=order_id)
    assert set(order.lines.values_list("status", flat=True)) == {LineStatus.CANCELLED}
    message = InboundMessage.objects.get(source="channel:amazon-us", kind="channel.order_change")
    assert message.status == "processed"
    assert (
        not OutboundCall.objects.filter(action="cancel")
        .exclude(status=OutboundStatus.SKIPPED)
        .exists()
    )
