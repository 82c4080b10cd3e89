"""The returns API as the contract: status, body, the resulting rows and events, scoping."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oms.events.models import Event
from returns.models import Return
from tests.returns.support import shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(nodes, web_channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return shipped_order(
            nodes["dc"], external_id="API-1", lines=[("TEE", 2, "20.00"), ("MUG", 1, "8.00")]
        )


BODY = {
    "lines": [{"line_number": 1, "quantity": 1, "reason_code": "size_fit", "condition": "opened"}],
    "note": "too small",
}


def test_a_channel_opens_a_return_that_is_authorized_under_the_policy(web_api, order):
    response = web_api.post(
        f"/api/v1/orders/{order.number}/returns/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "authorized"
    assert body["order"] == order.number
    assert body["policy_version"] == 1
    assert body["return_node"] == "dc-columbus"
    assert body["lines"] == [
        {
            "line_number": 1,
            "sku": "TEE",
            "quantity": 1,
            "reason_code": "size_fit",
            "condition_reported": "opened",
            "received_quantity": 0,
            "reported_damaged_quantity": 0,
            "dispositions": {},
        }
    ]
    detail = web_api.get(f"/api/v1/returns/{body['number']}/")
    assert detail.json()["number"] == body["number"]
    assert (
        web_api.get(f"/api/v1/orders/{order.number}/returns/").json()[0]["number"]
        == (body["number"])
    )
    assert web_api.get(f"/api/v1/returns/{body['number']}/refunds/").json() == []


def test_the_same_idempotency_key_replays_and_opens_one_return(web_api, order):
    url = f"/api/v1/orders/{order.number}/returns/"

    first = web_api.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="same")
    second = web_api.post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["number"] == first.json()["number"]
    assert Return.objects.count() == 1
    assert Event.objects.filter(type="return.requested").count() == 1


def test_a_closed_window_is_a_422_with_the_policy_code(web_api, order):
    order.fulfillment_orders.update(shipped_at=timezone.now() - timedelta(days=31))

    response = web_api.post(
        f"/api/v1/orders/{order.number}/returns/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="w"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "return_window_closed"
    assert response.json()["errors"][0]["field"] == "lines[0].line_number"
    assert not Return.objects.exists()


def test_too_many_units_is_a_400_naming_the_line(web_api, order):
    body = {"lines": [{"line_number": 2, "quantity": 2, "reason_code": "defective"}]}

    response = web_api.post(f"/api/v1/orders/{order.number}/returns/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "quantity_exceeds_returnable",
            "field": "lines[0].quantity",
            "detail": "Line 2: 2 asked, 1 returnable (1 shipped, 0 already in returns).",
        }
    ]


def test_another_channel_sees_no_return(web_api, pos_api, order):
    created = web_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json")
    number = created.json()["number"]

    assert pos_api.get(f"/api/v1/returns/{number}/").status_code == 404
    assert pos_api.get(f"/api/v1/returns/{number}/").json()["code"] == "return_not_found"
    assert pos_api.post(f"/api/v1/returns/{number}/cancel/", {}, format="json").status_code == 404
    assert (
        pos_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json").status_code
        == 404
    )


def test_a_return_is_withdrawn_before_it_comes_back(web_api, order):
    number = web_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json").json()[
        "number"
    ]

    response = web_api.post(
        f"/api/v1/returns/{number}/cancel/", {"reason": "kept it"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["refused_reason"] == "kept it"


def test_the_channel_refunds_an_inspected_return_once(web_api, order, nodes):
    from returns.services.receipt import inspect_return, receive_return
    from tests.returns.support import SYSTEM

    number = web_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json").json()[
        "number"
    ]
    rma = Return.objects.get(number=number)
    receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
    inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)
    url = f"/api/v1/returns/{number}/refunds/"

    first = web_api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    replay = web_api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    again = web_api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="refund-2")

    assert first.status_code == 201, first.json()
    assert (first.json()["status"], first.json()["amount"]) == ("succeeded", "20.00")
    assert replay.json() == first.json()
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_refund"
    assert web_api.get(f"/api/v1/returns/{number}/").json()["status"] == "closed"
    assert [r["amount"] for r in web_api.get(url).json()] == ["20.00"]


def test_a_return_not_yet_inspected_is_not_refundable(web_api, order):
    number = web_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json").json()[
        "number"
    ]

    response = web_api.post(f"/api/v1/returns/{number}/refunds/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "return_not_refundable"


def test_the_channel_says_the_parcel_is_on_its_way_back(web_api, pos_api, order):
    # given: an authorized return
    number = web_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json").json()[
        "number"
    ]

    # when: said twice (the same key replays), then by another channel
    first = web_api.post(
        f"/api/v1/returns/{number}/in-transit/", format="json", HTTP_IDEMPOTENCY_KEY="t1"
    )
    replay = web_api.post(
        f"/api/v1/returns/{number}/in-transit/", format="json", HTTP_IDEMPOTENCY_KEY="t1"
    )
    again = web_api.post(f"/api/v1/returns/{number}/in-transit/", format="json")
    elsewhere = pos_api.post(f"/api/v1/returns/{number}/in-transit/", format="json")

    # then: in transit once, one event; another channel sees nothing
    assert (first.status_code, replay.status_code, again.status_code) == (200, 200, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert first.json()["status"] == "in_transit"
    assert elsewhere.status_code == 404
    [event] = Event.objects.filter(stream=order.stream, type="return.in_transit")
    assert event.payload["return"] == number


def test_a_return_not_authorized_cannot_be_in_transit(web_api, order):
    number = web_api.post(f"/api/v1/orders/{order.number}/returns/", BODY, format="json").json()[
        "number"
    ]
    web_api.post(f"/api/v1/returns/{number}/cancel/", {"reason": "kept it"}, format="json")

    response = web_api.post(f"/api/v1/returns/{number}/in-transit/", format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "return_transition_refused"
    assert not Event.objects.filter(stream=order.stream, type="return.in_transit").exists()
