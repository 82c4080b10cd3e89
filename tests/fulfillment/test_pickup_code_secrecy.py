"""Pickup codes are never stored in clear in events, inbound messages or the admin order page
(docs/security.md, "Pickup codes"); the customer still gets the code in the ready notice's
webhook, built at send time from the fulfillment order while the parcel waits."""

import json
import re

import pytest
from django.db import transaction

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from integrations.models import InboundMessage
from oms.core.actors import Actor
from oms.events.models import Event
from oms.events.outbound import outbound_payload
from oms.events.services import record_event
from orders.services.api_clients import create_api_client
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory, StoreFactory, stocked
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from webhooks.sending import event_body

pytestmark = pytest.mark.django_db


def shows(text: str, code: str) -> bool:
    return re.search(rf"(?<!\d){re.escape(code)}(?!\d)", text) is not None


@pytest.fixture
def ready(web_channel, django_capture_on_commit_callbacks):
    store = StoreFactory(code="store-nyc", name="Store NYC")
    stocked(store, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(
        channel=web_channel,
        skus=["TEE"],
        delivery_method="pickup",
        pickup_node_code="store-nyc",
        shipping_address=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    api = bearer_client(create_api_client(node_code="store-nyc", name="store pos").key)
    base = f"/api/v1/fulfillments/{fo.number}"
    for action in ("accept", "pack", "ready"):
        response = api.post(f"{base}/{action}/", {"message_id": action}, format="json")
        assert response.status_code == 200, response.content
    fo.refresh_from_db()
    return fo, api, base


def test_the_ready_notice_webhook_carries_the_code_and_nothing_else_does(ready, client):
    fo, api, base = ready
    code = fo.pickup_code
    [notice] = Event.objects.filter(stream=fo.order.stream, type="fulfillment.ready_for_pickup")

    assert "pickup_code" not in notice.payload
    assert outbound_payload(notice)["pickup_code"] == code
    assert json.loads(event_body(notice))["payload"]["pickup_code"] == code

    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
    refused = api.post(
        f"{base}/hand-over/", {"message_id": "h0", "pickup_code": wrong}, format="json"
    )
    handed = api.post(
        f"{base}/hand-over/", {"message_id": "h1", "pickup_code": code}, format="json"
    )
    assert (refused.status_code, handed.status_code) == (400, 200)

    fo.refresh_from_db()
    assert (fo.status, fo.pickup_code) == ("picked_up", "")
    # events: neither the ready notice nor the hand-over holds it
    payloads = json.dumps([e.payload for e in Event.objects.all()])
    assert not shows(payloads, code)
    # the inbound message log keeps a keyed digest of the code shown, right or wrong
    logged = {m.message_id: m.payload for m in InboundMessage.objects.all()}
    assert logged["h1"]["pickup_code"].startswith("hmac-sha256:")
    assert logged["h0"]["pickup_code"].startswith("hmac-sha256:")
    assert not shows(json.dumps(list(logged.values())), code)
    assert not shows(json.dumps(list(logged.values())), wrong)
    # the admin order page (customer service, finance) and the event log admin
    client.force_login(superuser("cs"))
    page = client.get(f"/admin/orders/order/{fo.order_id}/change/").content.decode()
    assert "fulfillment.ready_for_pickup" in page
    assert not shows(page, code)
    event_page = client.get(f"/admin/events/event/{notice.pk}/change/").content.decode()
    assert not shows(event_page, code)
    # a replay after the hand-over no longer carries it
    assert outbound_payload(notice)["pickup_code"] is None


def test_events_written_before_the_change_show_the_code_hidden(ready, web_api):
    fo, _, _ = ready
    with transaction.atomic():
        old = record_event(
            stream=fo.order.stream,
            type="fulfillment.ready_for_pickup",
            actor=Actor.system("legacy"),
            payload={"fulfillment": fo.number, "pickup_code": "482913"},
        )

    events = web_api.get(f"/api/v1/orders/{fo.order.number}/events/").json()
    [shown] = [e["payload"] for e in events if e["seq"] == old.seq]
    assert shown["pickup_code"] == "[hidden]"
    assert json.loads(event_body(old))["payload"]["pickup_code"] == fo.pickup_code
