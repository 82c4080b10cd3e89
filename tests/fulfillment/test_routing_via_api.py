"""Routing as an API client sees it: the trigger and the explanation in `order.routed`
(issue 10: the wrong trigger after a hold release, database ids used as line numbers, and a
winner's explanation that did not say why nearer nodes lost)."""

import pytest

from orders.models import OrderLine
from tests.factories.inventory import stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

NYC = {
    "line1": "350 5th Ave",
    "city": "New York",
    "region": "NY",
    "postal_code": "10118",
    "country": "US",
    "latitude": "40.7484",
    "longitude": "-73.9857",
}


def place(web_api, external_id, lines, **extra):
    body = {
        "external_id": external_id,
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
        "delivery": {"method": "ship", "service_level": "standard"},
        "shipping_address": NYC,
        "lines": [{"sku": sku, "quantity": q, "unit_price": "10.00"} for sku, q in lines],
        "payment": {"status": "authorized", "method": "card", "reference": "pi_1"},
        **extra,
    }
    response = web_api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def routed(web_api, number):
    events = web_api.get(f"/api/v1/orders/{number}/events/").json()
    events = events.get("results", events) if isinstance(events, dict) else events
    return [e["payload"] for e in events if e["type"] == "order.routed"]


def test_explanations_name_lines_as_the_channel_sent_them(
    web_api, network, products, django_capture_on_commit_callbacks
):
    # given: earlier orders, so the new order's line ids are not 1, 2, 3
    for n in range(3):
        captured_order(external_id=f"EARLIER-{n}", skus=["TEE", "MUG", "CAP"])
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["east"], products["CAP"], on_hand=2)
    stocked(network["west"], products["CAP"], on_hand=1)

    # when: line 2 (MUG) is stocked nowhere, line 3 (CAP ×3) needs two nodes
    with django_capture_on_commit_callbacks(execute=True):
        order = place(web_api, "LINES-1", [("TEE", 1), ("MUG", 1), ("CAP", 3)])

    # then
    [payload] = routed(web_api, order["number"])
    text = " ".join(payload["explanation"])
    assert "Line 3 (CAP) split across dc-east ×2, dc-west ×1." in text
    assert "MUG ×1 (line 2)" in text
    ids = OrderLine.objects.filter(order__number=order["number"]).values_list("pk", flat=True)
    assert min(ids) > 3  # the database ids are not the line numbers
    assert not any(f"line {i})" in text or f"Line {i} (" in text for i in ids)


def test_a_far_node_that_fills_everything_says_why_nearer_nodes_lost(
    web_api, network, products, django_capture_on_commit_callbacks
):
    # given: Columbus (near New York) has the tee only; Reno (far) has everything
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["west"], products["TEE"], on_hand=5)
    stocked(network["west"], products["MUG"], on_hand=5)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        order = place(web_api, "FAR-1", [("TEE", 1), ("MUG", 1)])

    # then: the event itself names the better-scored node passed over and the deciding factor
    [payload] = routed(web_api, order["number"])
    assert [a["node"] for a in payload["allocations"]] == ["dc-west", "dc-west"]
    [passed_over] = [s for s in payload["explanation"] if s.startswith("Passed over")]
    assert "dc-east (" in passed_over
    assert "1 of 2 SKUs" in passed_over
    assert "at least 2 shipments vs 1" in passed_over
    assert "for dc-west alone" in passed_over


def test_routing_after_the_last_hold_is_released_says_hold_released(
    web_api, network, products, django_capture_on_commit_callbacks
):
    # given: an order captured on fraud hold is not routed
    stocked(network["east"], products["TEE"], on_hand=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place(
            web_api, "HELD-1", [("TEE", 1)], holds=[{"kind": "fraud", "reason": "score 97"}]
        )
    assert routed(web_api, order["number"]) == []

    # when
    with django_capture_on_commit_callbacks(execute=True):
        released = web_api.post(
            f"/api/v1/orders/{order['number']}/holds/{order['holds'][0]['id']}/release/",
            {"note": "customer verified"},
            format="json",
        )

    # then
    assert released.status_code == 200
    [payload] = routed(web_api, order["number"])
    assert payload["trigger"] == "hold_released"
