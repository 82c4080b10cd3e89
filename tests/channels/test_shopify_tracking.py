"""Shopify "update tracking": a carrier's newer scan of a parcel oms shipped
(`shipment.tracking_updated`) goes to Shopify through the outbox as a fulfillment event on the
fulfillment oms created, and as an `update_tracking` when Shopify holds another tracking number.
The order comes in through Shopify's documented order #1001, ships through the simulated WMS,
and the fake Shopify answers with the corpus' REST responses (shared/corpus/shopify)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import OutboundCall, OutboundStatus
from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.shipping import apply_tracking_updates
from integrations.carriers import simulate_tracking
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import ExceptionCase
from orders.models import Order
from tests.channels.conftest import (
    load,
    send_until_done,
    shopify_fulfillment_orders,
    shopify_headers,
)
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("shopify")]

ORDER_FILE = "shopify/api_ruby__order.json"  # #1001, order 450789469 of Shopify's own docs
API = "/admin/api/2026-07"
FULFILLMENTS = rf"{API}/orders/450789469/fulfillments\.json"
CREATED_ID = 1069019877  # what the corpus' POST fulfillments.json answers
EVENTS = rf"{API}/orders/450789469/fulfillments/{CREATED_ID}/events\.json"
UPDATE_TRACKING = rf"{API}/fulfillments/{CREATED_ID}/update_tracking\.json"
CARRIER = Actor.system("test carrier")


def shopify_fulfillments(tracking_number: str | None) -> dict:
    """The corpus' GET orders/450789469/fulfillments.json, its first fulfillment being the one
    oms created (the id POST fulfillments.json answered); with `tracking_number` when Shopify
    holds ours, else the corpus' own."""
    listing = json.loads(
        corpus(
            "shopify/api_ruby_rest_2026_07__fulfillment__test_1__get_orders_450789469_fulfillments_json.json"
        ).read_text()
    )
    first = listing["fulfillments"][0]
    first["id"] = CREATED_ID
    if tracking_number is not None:
        first["tracking_number"] = tracking_number
        first["tracking_numbers"] = [tracking_number]
        first["tracking_company"] = "simulated"
    return listing


def fulfillment_event(status: str, happened_at: str) -> dict:
    body = json.loads(corpus("shopify/python_api__fulfillment_event.json").read_text())
    body["fulfillment_event"].update(
        {"fulfillment_id": CREATED_ID, "order_id": 450789469, "status": status}
    )
    body["fulfillment_event"]["happened_at"] = happened_at
    return body


@pytest.fixture
def shipped(client, shop, warehouse, fake, django_capture_on_commit_callbacks):
    """Order #1001 in through the webhook, shipped by the simulated WMS (no delivery scan
    yet), Shopify's fulfillment created by the fulfill call."""
    warehouse.connector_settings = {"behaviour": "ship", "step_seconds": 0, "deliver": False}
    warehouse.save(update_fields=["connector_settings"])
    fo_listing = json.loads(
        corpus(
            "shopify/api_ruby_rest_2026_07__fulfillment_order__test_1__get_orders_450789469_fulfillment_orders_json.json"
        ).read_text()
    )
    # the corpus' fulfillment order holds line 466157049; make it hold #1001's three lines
    fo = fo_listing["fulfillment_orders"][0]
    template = fo["line_items"][0]
    fo["status"] = "open"
    fo["line_items"] = [
        {**template, "id": 1072503277 + i, "line_item_id": li, "fulfillable_quantity": 1}
        for i, li in enumerate((466157049, 518995019, 703073504))
    ]
    fake.answer("GET", rf"{API}/orders/450789469/fulfillment_orders\.json", fo_listing)
    fake.answer(
        "POST",
        rf"{API}/fulfillments\.json",
        corpus("shopify/api_ruby_rest_2026_07__fulfillment__test_6__post_fulfillments_json.json"),
        status=201,
    )
    raw = json.dumps(load(ORDER_FILE)["order"], default=str).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/shopify/shopify-us/",
            raw,
            content_type="application/json",
            **shopify_headers(raw, "orders/create", "d-1"),
        )
    fulfill = OutboundCall.objects.get(action="fulfill")
    assert fulfill.status == OutboundStatus.SENT, fulfill.last_error
    assert fulfill.response["fulfillment_id"] == CREATED_ID
    return FulfillmentOrder.objects.get(order=Order.objects.get())


def scan(shipment: Shipment, steps: int, now, callbacks) -> None:
    """The carrier's cumulative updates up to `steps` stages of its journey, applied through
    the same service a carrier webhook uses."""
    last = simulate_tracking(shipment.tracking_number, now, steps=steps)[-1]
    with callbacks(execute=True):
        apply_tracking_updates(
            [last], source="carrier:simulated", message_id=f"scan-{steps}", actor=CARRIER
        )


def test_each_newer_scan_reaches_shopify_as_a_fulfillment_event_once(
    shipped, fake, django_capture_on_commit_callbacks
):
    shipment = shipped.shipments.get()
    fake.answer("GET", FULFILLMENTS, shopify_fulfillments(shipment.tracking_number))
    fake.answer("GET", EVENTS, {"fulfillment_events": []})
    now = timezone.now().replace(microsecond=0)
    fake.answer("POST", EVENTS, fulfillment_event("out_for_delivery", now.isoformat()), 201)

    scan(shipment, 3, now, django_capture_on_commit_callbacks)  # … out for delivery
    scan(shipment, 3, now, django_capture_on_commit_callbacks)  # the carrier sends it again
    scan(shipment, 4, now + timedelta(hours=6), django_capture_on_commit_callbacks)  # delivered

    calls = list(OutboundCall.objects.filter(action="tracking").order_by("id"))
    assert [c.status for c in calls] == [OutboundStatus.SENT, OutboundStatus.SENT]
    assert [c.payload["status"] for c in calls] == ["out_for_delivery", "delivered"]
    assert calls[0].payload["platform_fulfillment_id"] == CREATED_ID
    posted = fake.calls("POST", EVENTS)
    assert [p.body["event"]["status"] for p in posted] == ["out_for_delivery", "delivered"]
    first = posted[0].body["event"]
    assert first["happened_at"] == now.isoformat()
    assert first["message"] == "Local depot"
    assert posted[0].headers["x-shopify-access-token"] == "shpat_test_token"
    # Shopify holds our tracking number already: nothing to update there
    assert fake.calls("POST", UPDATE_TRACKING) == []
    assert calls[0].response["event_id"] == 12584341209251  # the corpus event's id
    # one event in oms per newer scan; the resent scan made none and no call
    assert (
        Event.objects.filter(stream=shipped.order.stream, type="shipment.tracking_updated").count()
        == 2
    )


def test_a_scan_reaches_shopify_once_although_it_answers_500_twice_first(
    shipped, fake, django_capture_on_commit_callbacks
):
    shipment = shipped.shipments.get()
    fake.answer("GET", FULFILLMENTS, shopify_fulfillments(shipment.tracking_number))
    fake.answer("GET", EVENTS, {"fulfillment_events": []})
    now = timezone.now().replace(microsecond=0)
    fake.answer("POST", EVENTS, fulfillment_event("in_transit", now.isoformat()), 201)
    fake.fail_first("POST", EVENTS, times=2)

    scan(shipment, 2, now, django_capture_on_commit_callbacks)  # in transit; first try: 500
    call = OutboundCall.objects.get(action="tracking")
    statuses = send_until_done(call, times=3)

    call.refresh_from_db()
    assert statuses == ["pending", "sent", None]
    assert (call.status, call.attempts) == (OutboundStatus.SENT, 3)
    assert len(fake.calls("POST", EVENTS)) == 3  # two refused with 500, one accepted


def test_a_retry_after_a_lost_answer_finds_the_event_at_shopify_and_adds_none(
    shipped, fake, django_capture_on_commit_callbacks
):
    shipment = shipped.shipments.get()
    now = timezone.now().replace(microsecond=0)
    fake.answer("GET", FULFILLMENTS, shopify_fulfillments(shipment.tracking_number))
    # Shopify made the event, but its answer never reached us: it lists it now
    fake.answer(
        "GET",
        EVENTS,
        {
            "fulfillment_events": [
                fulfillment_event("in_transit", now.isoformat())["fulfillment_event"]
            ]
        },
    )

    scan(shipment, 2, now, django_capture_on_commit_callbacks)

    call = OutboundCall.objects.get(action="tracking")
    assert call.status == OutboundStatus.SENT
    assert call.response["already_there"] is True
    assert fake.calls("POST", EVENTS) == []


def test_shopify_holding_another_tracking_number_gets_update_tracking_first(
    shipped, fake, django_capture_on_commit_callbacks
):
    shipment = shipped.shipments.get()
    fake.answer("GET", FULFILLMENTS, shopify_fulfillments(None))  # the corpus' own number
    fake.answer(
        "POST",
        UPDATE_TRACKING,
        corpus(
            "shopify/api_ruby_rest_2026_07__fulfillment__test_11__post_fulfillments_1069019869_update_tracking_json.json"
        ),
    )
    fake.answer("GET", EVENTS, {"fulfillment_events": []})
    now = timezone.now().replace(microsecond=0)
    fake.answer("POST", EVENTS, fulfillment_event("in_transit", now.isoformat()), 201)

    scan(shipment, 2, now, django_capture_on_commit_callbacks)

    [update] = fake.calls("POST", UPDATE_TRACKING)
    assert update.body == {
        "fulfillment": {
            "tracking_info": {"number": shipment.tracking_number, "company": shipment.carrier},
            "notify_customer": False,
        }
    }
    assert OutboundCall.objects.get(action="tracking").response["tracking_updated"] is True
    assert len(fake.calls("POST", EVENTS)) == 1


def test_delivered_by_the_simulated_carrier_reaches_shopify(
    client, shop, warehouse, fake, django_capture_on_commit_callbacks
):
    """The whole way, with the simulated WMS's own delivery scan: Shopify's fulfillment gets
    `delivered`."""
    # Shopify lists the fulfillment with the tracking number oms's fulfill call gave it
    fake.answer(
        "GET",
        FULFILLMENTS,
        lambda shopify: (
            shopify_fulfillments(
                shopify.calls("POST", rf"{API}/fulfillments\.json")[-1].body["fulfillment"][
                    "tracking_info"
                ]["number"]
            )
            if shopify.calls("POST", rf"{API}/fulfillments\.json")
            else {"fulfillments": []}
        ),
    )
    fake.answer("GET", EVENTS, {"fulfillment_events": []})
    fake.answer("POST", EVENTS, fulfillment_event("delivered", timezone.now().isoformat()), 201)
    fake.answer(
        "GET",
        rf"{API}/orders/450789469/fulfillment_orders\.json",
        shopify_fulfillment_orders(),
    )
    fake.answer(
        "POST",
        rf"{API}/fulfillments\.json",
        corpus("shopify/api_ruby_rest_2026_07__fulfillment__test_6__post_fulfillments_json.json"),
        status=201,
    )
    raw = json.dumps(load(ORDER_FILE)["order"], default=str).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/shopify/shopify-us/",
            raw,
            content_type="application/json",
            **shopify_headers(raw, "orders/create", "d-1"),
        )

    assert FulfillmentOrder.objects.get().status == "delivered"
    [call] = OutboundCall.objects.filter(action="tracking")
    if call.status == OutboundStatus.PENDING:
        # the delivery scan was sent before the fulfill call: Shopify had no fulfillment yet
        assert "lists no fulfillment" in call.last_error
        send_until_done(call, times=1)
        call.refresh_from_db()
    assert call.status == OutboundStatus.SENT, call.last_error
    assert fake.calls("POST", UPDATE_TRACKING) == []
    [posted] = fake.calls("POST", EVENTS)
    assert posted.body["event"]["status"] == "delivered"


def test_no_fulfillment_at_shopify_is_retried_then_dead_with_a_case(
    shipped, fake, settings, django_capture_on_commit_callbacks
):
    settings.OMS_CHANNELS_MAX_ATTEMPTS = 2
    fake.answer("GET", FULFILLMENTS, {"fulfillments": []})
    shipment = shipped.shipments.get()

    scan(shipment, 2, timezone.now(), django_capture_on_commit_callbacks)
    call = OutboundCall.objects.get(action="tracking")
    assert call.status == OutboundStatus.PENDING  # retried: the fulfillment may still come
    send_until_done(call, times=1)

    call.refresh_from_db()
    assert call.status == OutboundStatus.DEAD
    assert "lists no fulfillment" in call.last_error
    assert ExceptionCase.objects.filter(kind="integration_failed", order=shipped.order).exists()
