"""Carrier tracking webhooks end to end: a real EasyPost payload, signed, moves our shipment
to delivered; unsigned or tampered requests are refused; unknown parcels are acknowledged."""

import hashlib
import hmac
import json

import pytest
from rest_framework.test import APIClient

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import Package, ship_fulfillment
from oms.core.actors import Actor
from oms.events.models import Event
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order
from tests.integrations.conftest import CORPUS, PAYLOAD, SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("easypost_secret")]


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    """A fulfillment shipped with UPS under the tracking code in the corpus payload."""
    if not PAYLOAD.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(skus=["TEE"])
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    ship_fulfillment(
        fulfillment_id=fo.pk,
        actor=Actor.system("test"),
        packages=[Package(carrier="UPS", tracking_number="EZ4000000004")],
    )
    return fo


def post(body: bytes, signature: str | None):
    headers = {"HTTP_X_HMAC_SIGNATURE": f"hmac-sha256-hex={signature}"} if signature else {}
    return APIClient().post(
        "/api/v1/webhooks/carriers/easypost/", data=body, content_type="application/json", **headers
    )


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_signed_easypost_delivery_delivers_the_fulfillment(shipped):
    body = PAYLOAD.read_bytes()

    response = post(body, sign(body))

    assert response.status_code == 200
    assert response.json() == {
        "received": 1,
        "applied": 1,
        "unknown_tracking_numbers": 0,
        "refused": 0,
    }
    shipment = Shipment.objects.get()
    assert shipment.status == "delivered"
    assert shipment.tracking.count() == len(json.loads(body)["result"]["tracking_details"])
    assert FulfillmentOrder.objects.get(pk=shipped.pk).status == "delivered"
    types = list(Event.objects.filter(stream=shipped.order.stream).values_list("type", flat=True))
    assert types.count("shipment.tracking_updated") == 1
    assert types.count("fulfillment.delivered") == 1


def test_the_same_webhook_twice_has_one_effect(shipped):
    body = PAYLOAD.read_bytes()
    post(body, sign(body))

    again = post(body, sign(body))

    assert again.status_code == 200
    assert Event.objects.filter(type="shipment.tracking_updated").count() == 1


@pytest.mark.parametrize("_case", ["unsigned", "tampered"])
def test_unsigned_or_tampered_webhooks_are_refused(shipped, _case):
    body = PAYLOAD.read_bytes()
    signature = None if _case == "unsigned" else sign(body + b" ")

    response = post(body, signature)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert Shipment.objects.get().status == "in_transit"


def test_a_parcel_that_is_not_ours_is_acknowledged(db):
    if not PAYLOAD.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    body = PAYLOAD.read_bytes()

    response = post(body, sign(body))

    assert response.status_code == 200
    assert response.json()["unknown_tracking_numbers"] == 1


def test_a_malformed_body_is_400_with_a_code(db):
    body = b'{"object": "Event", "description": "tracker.updated", "result": {"object": 1}}'

    response = post(body, sign(body))

    assert response.status_code == 400
    assert response.json()["code"]


def test_an_unknown_format_is_404(db):
    response = APIClient().post(
        "/api/v1/webhooks/carriers/pigeon/", data=b"{}", content_type="application/json"
    )

    assert response.status_code == 404
