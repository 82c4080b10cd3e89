"""DOMAIN.md scenarios 1-5, 8 and 11, end to end through the API with a real worker."""

import pytest

from inventory.models import StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.events.models import Event
from oms.events.outbound import outbound_payload
from ops.models import ExceptionCase
from orders.services.api_clients import create_api_client
from tests.celery_worker import wait_until
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory, stocked

pytestmark = pytest.mark.django_db(transaction=True)

NYC = {
    "line1": "350 5th Ave",
    "city": "New York",
    "region": "NY",
    "postal_code": "10118",
    "country": "US",
}
OHIO = {
    "line1": "1 Main St",
    "city": "Columbus",
    "region": "OH",
    "postal_code": "43215",
    "country": "US",
}


def place(api, external_id, lines, address=NYC, **extra):
    body = {
        "external_id": external_id,
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
        "lines": [{"sku": sku, "quantity": qty, "unit_price": "10.00"} for sku, qty in lines],
        "payment": {"status": "authorized", "reference": "auth_1"},
        **extra,
    }
    if address is not None:
        body["shipping_address"] = address
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["number"]


def order(api, number):
    return api.get(f"/api/v1/orders/{number}/").json()


def events(api, number):
    return [e["type"] for e in api.get(f"/api/v1/orders/{number}/events/").json()]


def payload_of(api, number, type_):
    return [
        e["payload"]
        for e in api.get(f"/api/v1/orders/{number}/events/").json()
        if e["type"] == type_
    ]


def wait_for(api, number, status, timeout=45):
    wait_until(
        lambda: order(api, number)["status"] == status,
        timeout=timeout,
        what=f"order {number} to be {status} (is {order(api, number)['status']})",
    )


def stock(node, sku):
    level = StockLevel.objects.get(node=node, product__sku=sku)
    return level.on_hand, level.reserved


def test_1_single_item_ships_from_a_distribution_center(worker, web_api, nodes):
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=10)

    number = place(web_api, "S1", [("TEE", 2)], address=OHIO)

    wait_for(web_api, number, "completed")
    body = order(web_api, number)
    assert body["payment"]["status"] == "paid"
    assert stock(nodes["east"], "TEE") == (8, 0)
    shipped = payload_of(web_api, number, "fulfillment.shipped")
    assert [(p["node"], p["lines"]) for p in shipped] == [
        ("dc-east", [{"line_number": 1, "sku": "TEE", "quantity": 2}])
    ]
    assert shipped[0]["packages"][0]["tracking_number"].startswith("SIM1Z")
    assert events(web_api, number)[:3] == ["order.created", "order.routed", "order.status_changed"]


def test_2_a_multi_line_order_no_node_can_fill_alone_ships_in_two(worker, web_api, nodes):
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=10)
    stocked(nodes["east"], ProductFactory(sku="MUG"), on_hand=10)
    stocked(nodes["west"], ProductFactory(sku="CAP"), on_hand=10)

    number = place(web_api, "S2", [("TEE", 1), ("MUG", 1), ("CAP", 1)])

    wait_for(web_api, number, "completed")
    routed = payload_of(web_api, number, "order.routed")[0]["allocations"]
    assert sorted((a["sku"], a["node"]) for a in routed) == [
        ("CAP", "dc-west"),
        ("MUG", "dc-east"),
        ("TEE", "dc-east"),
    ]
    assert len(payload_of(web_api, number, "fulfillment.shipped")) == 2


def test_3_ship_from_store_the_associates_system_picks_and_ships(worker, web_api, nodes):
    # given: the Manhattan store is nearest; the far DC has stock too
    stocked(nodes["nyc"], ProductFactory(sku="TEE"), on_hand=5)
    stocked(nodes["west"], ProductFactory.create(sku="TEE"), on_hand=50)
    store = bearer_client(create_api_client(node_code="store-nyc", name="store pos").key)
    number = place(web_api, "S3", [("TEE", 1)])
    wait_for(web_api, number, "released")
    [fo] = store.get("/api/v1/fulfillments/?status=released").json()["results"]

    # when: the associate works it
    for action, body in [
        ("accept", {}),
        ("pack", {}),
        ("ship", {"packages": [{"carrier": "UPS", "tracking_number": "1ZS3"}]}),
        ("deliver", {}),
    ]:
        response = store.post(
            f"/api/v1/fulfillments/{fo['number']}/{action}/",
            {"message_id": f"s3-{action}", **body},
            format="json",
        )
        assert response.status_code == 200, response.json()

    # then
    wait_for(web_api, number, "completed")
    assert fo["node"] == "store-nyc"
    assert stock(nodes["nyc"], "TEE") == (4, 0)


@pytest.mark.parametrize("method", ["pickup", "curbside"])
def test_4_buy_online_pick_up_in_store_with_a_verified_hand_over(worker, web_api, nodes, method):
    stocked(nodes["nyc"], ProductFactory(sku="TEE"), on_hand=5)
    store = bearer_client(create_api_client(node_code="store-nyc", name="store pos").key)
    number = place(
        web_api,
        f"S4-{method}",
        [("TEE", 2)],
        address=None,
        delivery={"method": method, "pickup_node": "store-nyc"},
    )
    wait_for(web_api, number, "released")
    [fo] = store.get("/api/v1/fulfillments/").json()["results"]
    url = f"/api/v1/fulfillments/{fo['number']}"
    store.post(f"{url}/accept/", {"message_id": "a"}, format="json")
    store.post(f"{url}/pack/", {"message_id": "p"}, format="json")
    ready = store.post(f"{url}/ready/", {"message_id": "r"}, format="json")
    # The customer gets the code in the ready notice's webhook; the event log never shows it.
    assert payload_of(web_api, number, "fulfillment.ready_for_pickup")[0].get("pickup_code") is None
    [event] = Event.objects.filter(type="fulfillment.ready_for_pickup", stream=f"order:{number}")
    notice = outbound_payload(event)

    wrong = store.post(
        f"{url}/hand-over/",
        {
            "message_id": "h0",
            "pickup_code": "000000" if notice["pickup_code"] != "000000" else "111111",
        },
        format="json",
    )
    right = store.post(
        f"{url}/hand-over/",
        {"message_id": "h1", "pickup_code": notice["pickup_code"]},
        format="json",
    )

    assert ready.json()["status"] == "ready_for_pickup"
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "pickup_code_mismatch"
    assert right.json()["status"] == "picked_up"
    wait_for(web_api, number, "completed")
    assert stock(nodes["nyc"], "TEE") == (3, 0)


def test_5_backorder_is_allocated_automatically_when_stock_arrives(worker, web_api, nodes):
    stocked(nodes["east"], ProductFactory(sku="MUG"), on_hand=0)
    number = place(web_api, "S5", [("MUG", 3)], address=OHIO)
    wait_for(web_api, number, "backordered")

    wms = bearer_client(create_api_client(node_code="dc-east", name="wms east").key)
    receipt = wms.post(
        "/api/v1/inventory/adjustments/",
        {
            "node": "dc-east",
            "message_id": "rcv-1",
            "lines": [{"sku": "MUG", "delta": 5, "reason": "receipt"}],
        },
        format="json",
    )

    assert receipt.status_code == 200, receipt.json()
    wait_for(web_api, number, "completed")
    assert payload_of(web_api, number, "order.routed")[0]["trigger"] == "stock_arrived"
    assert stock(nodes["east"], "MUG") == (2, 0)


def test_8a_a_node_rejects_and_the_order_is_rerouted(worker, web_api, nodes):
    nodes["east"].connector_settings = {
        "behaviour": "reject",
        "step_seconds": 0,
        "reject_reason": "flooded aisle",
    }
    nodes["east"].save(update_fields=["connector_settings"])
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=10)
    stocked(nodes["west"], ProductFactory.create(sku="TEE"), on_hand=10)

    number = place(web_api, "S8A", [("TEE", 2)], address=OHIO)

    wait_for(web_api, number, "completed")
    rejected = payload_of(web_api, number, "fulfillment.rejected")
    assert [(r["node"], r["reason"]) for r in rejected] == [("dc-east", "flooded aisle")]
    shipped = payload_of(web_api, number, "fulfillment.shipped")
    assert [s["node"] for s in shipped] == ["dc-west"]
    assert stock(nodes["east"], "TEE") == (10, 0)
    assert stock(nodes["west"], "TEE") == (8, 0)


def test_8b_a_short_pick_sends_the_missing_unit_to_the_next_node(worker, web_api, nodes):
    nodes["east"].connector_settings = {"behaviour": "short", "step_seconds": 0}
    nodes["east"].save(update_fields=["connector_settings"])
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=10)
    stocked(nodes["west"], ProductFactory.create(sku="TEE"), on_hand=10)

    number = place(web_api, "S8B", [("TEE", 2)], address=OHIO)

    wait_for(web_api, number, "completed")
    shipped = {
        s["node"]: s["lines"][0]["quantity"]
        for s in payload_of(web_api, number, "fulfillment.shipped")
    }
    assert shipped == {"dc-east": 1, "dc-west": 1}
    assert payload_of(web_api, number, "fulfillment.packed")[0]["short"] == [
        {"line_number": 1, "sku": "TEE", "short": 1}
    ]
    # the unit east could not find left its on-hand: 10 - 1 shipped - 1 short
    assert stock(nodes["east"], "TEE") == (8, 0)
    assert stock(nodes["west"], "TEE") == (9, 0)
    assert find_ledger_mismatches() == []
    case = ExceptionCase.objects.get(kind="cycle_count")
    assert (case.status, case.subject_label) == ("open", "dc-east")


def test_11_nothing_is_released_while_a_hold_is_active(worker, web_api, nodes):
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=10)
    number = place(
        web_api, "S11", [("TEE", 1)], address=OHIO, holds=[{"kind": "fraud", "reason": "score 97"}]
    )
    worker.wait_for('"outcome": "on_hold"')
    held = order(web_api, number)
    assert held["status"] == "created"
    assert stock(nodes["east"], "TEE") == (10, 0)
    assert "fulfillment.released" not in events(web_api, number)

    released = web_api.post(
        f"/api/v1/orders/{number}/holds/{held['holds'][0]['id']}/release/",
        {"note": "customer verified"},
        format="json",
    )

    assert released.status_code == 200
    wait_for(web_api, number, "completed")
