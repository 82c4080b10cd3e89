"""Issue 11's cancellation scenarios, end to end through the channel API (and the node API where
a node answers) with a real Celery worker: each ends with exact stock, ledger and money."""

from decimal import Decimal

import pytest

from inventory.models import InventoryMovement
from inventory.selectors import find_ledger_mismatches
from orders.models import Order, PaymentTransaction
from orders.selectors import payment_summary
from orders.services.api_clients import create_api_client
from tests.celery_worker import wait_until
from tests.conftest import bearer_client
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.scenarios.test_scenarios import OHIO, events, order, payload_of, place, stock, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def ledger(number):
    """(reason, Δ on hand, Δ reserved) of the order's movements, in order."""
    return list(
        InventoryMovement.objects.filter(reference_id=number)
        .order_by("id")
        .values_list("reason", "delta_on_hand", "delta_reserved")
    )


def money(number):
    """(kind, amount, status) of the order's payment transactions, in order."""
    return [
        (kind, str(amount.quantize(Decimal("0.01"))), status)
        for kind, amount, status in PaymentTransaction.objects.filter(order__number=number)
        .order_by("id")
        .values_list("kind", "amount", "status")
    ]


def cancel(api, number, path="cancel/", key="k1", **body):
    return api.post(
        f"/api/v1/orders/{number}/{path}",
        {"reason": "customer changed their mind", **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def wait_for_event(api, number, type_, timeout=45):
    wait_until(
        lambda: type_ in events(api, number),
        timeout=timeout,
        what=f"{type_} on {number} (has {events(api, number)})",
    )


def sim_node(code, **settings):
    return NodeFactory(
        code=code,
        connector="simulated",
        connector_settings={"step_seconds": 0, **settings},
        priority=10,
    )


def test_cancel_before_release_takes_effect_at_once_and_voids(worker, web_api, nodes):
    # given: an order stopped by a fraud hold before anything reached a node
    stocked(nodes["east"], ProductFactory(sku="TEE"), on_hand=10)
    number = place(
        web_api,
        "C1",
        [("TEE", 2)],
        address=OHIO,
        holds=[{"kind": "fraud", "reason": "manual review"}],
    )

    # when
    response = cancel(web_api, number)
    replay = cancel(web_api, number)

    # then: cancelled at once, and the authorization is voided by the worker
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "order": number,
        "status": "cancelled",
        "cancelled": [{"line_number": 1, "quantity": 2}],
        "requested": [],
    }
    assert replay.headers["Idempotent-Replayed"] == "true"
    wait_until(lambda: order(web_api, number)["payment"]["status"] == "voided", what="void")
    [cancelled] = payload_of(web_api, number, "order.cancelled")
    assert (cancelled["reason"], cancelled["actor"]) == (
        "customer changed their mind",
        "storefront",
    )
    assert stock(nodes["east"], "TEE") == (10, 0)
    assert ledger(number) == []
    assert money(number) == [("void", "20.00", "succeeded")]
    assert find_ledger_mismatches() == []


def test_cancel_after_release_is_confirmed_by_the_node_and_voids(worker, web_api, transactional_db):
    # given: the warehouse has accepted the order
    dc = sim_node("dc-a", behaviour="accept_only")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=10)
    number = place(web_api, "C2", [("TEE", 2)], address=OHIO)
    wait_for_event(web_api, number, "fulfillment.accepted")

    # when
    response = cancel(web_api, number)

    # then: asked of the node, confirmed by the simulated WMS, stock back, authorization voided
    assert response.status_code == 202, response.json()
    assert response.json()["cancelled"] == []
    assert [(r["node"], r["units"]) for r in response.json()["requested"]] == [("dc-a", 2)]
    wait_for(web_api, number, "cancelled")
    wait_until(lambda: order(web_api, number)["payment"]["status"] == "voided", what="void")
    types = events(web_api, number)
    assert types.index("order.cancel_requested") < types.index("order.line_cancelled")
    assert types.index("fulfillment.cancelled") < types.index("order.cancelled")
    assert (types.count("order.cancelled"), types.count("order.payment_voided")) == (1, 1)
    [line_cancelled] = payload_of(web_api, number, "order.line_cancelled")
    assert (line_cancelled["quantity"], line_cancelled["actor"]) == (2, "storefront")
    assert stock(dc, "TEE") == (10, 0)
    assert ledger(number) == [("reservation", 0, 2), ("release", 0, -2)]
    assert money(number) == [("void", "20.00", "succeeded")]
    assert find_ledger_mismatches() == []


def test_cancel_refused_because_the_parcel_shipped(worker, web_api, transactional_db):
    # given: a warehouse whose parcel leaves before it reads the cancel request
    dc = sim_node("dc-a", behaviour="accept_only", request_answer="ship_first", deliver=False)
    stocked(dc, ProductFactory(sku="TEE"), on_hand=10)
    number = place(web_api, "C3", [("TEE", 2)], address=OHIO, shipping_total="5.00")
    wait_for_event(web_api, number, "fulfillment.accepted")

    # when
    response = cancel(web_api, number)

    # then: refused already_shipped; the order ships and is charged in full
    assert response.status_code == 202, response.json()
    wait_for_event(web_api, number, "order.cancel_refused")
    [refused] = payload_of(web_api, number, "order.cancel_refused")
    assert (refused["code"], refused["lines"]) == (
        "already_shipped",
        [{"line_number": 1, "sku": "TEE", "quantity": 2}],
    )
    wait_until(lambda: order(web_api, number)["payment"]["status"] == "paid", what="capture")
    assert order(web_api, number)["status"] == "shipped"
    assert "order.cancelled" not in events(web_api, number)
    assert stock(dc, "TEE") == (8, 0)
    assert ledger(number) == [("reservation", 0, 2), ("shipment", -2, -2)]
    assert money(number) == [("capture", "25.00", "succeeded")]
    assert find_ledger_mismatches() == []


def test_partial_cancel_of_1_of_3_units_capture_charges_2(worker, web_api, transactional_db):
    # given: an API node (a WMS on the node API) holds 3 units
    dc = NodeFactory(code="dc-api", connector="api", priority=10)
    stocked(dc, ProductFactory(sku="TEE"), on_hand=10)
    wms = bearer_client(create_api_client(node_code="dc-api", name="wms").key)
    number = place(web_api, "C4", [("TEE", 3)], address=OHIO, shipping_total="5.00")
    wait_for(web_api, number, "released")
    [fo] = wms.get("/api/v1/fulfillments/").json()["results"]

    # when: the customer cancels 1 unit; the node confirms, then ships the other 2
    response = cancel(web_api, number, path="lines/1/cancel/", quantity=1)
    [open_request] = wms.get(f"/api/v1/fulfillments/{fo['number']}/").json()["open_requests"]
    url = f"/api/v1/fulfillments/{fo['number']}"
    confirm = wms.post(
        f"{url}/confirm-request/",
        {"message_id": "c1", "request": open_request["id"]},
        format="json",
    )
    for action, body in [
        ("accept", {}),
        ("pack", {}),
        ("ship", {"packages": [{"carrier": "UPS", "tracking_number": "1ZC4"}]}),
    ]:
        answer = wms.post(f"{url}/{action}/", {"message_id": action, **body}, format="json")
        assert answer.status_code == 200, answer.json()

    # then
    assert response.status_code == 202, response.json()
    assert open_request["lines"] == [
        {"line_id": fo["lines"][0]["line_id"], "sku": "TEE", "quantity": 1}
    ]
    assert confirm.status_code == 200, confirm.json()
    assert confirm.json()["open_requests"] == []
    wait_until(lambda: order(web_api, number)["payment"]["status"] == "paid", what="capture")
    body = order(web_api, number)
    assert body["status"] == "shipped"
    assert [(line["quantity"], line["cancelled_quantity"]) for line in body["lines"]] == [(3, 1)]
    assert stock(dc, "TEE") == (8, 0)
    assert ledger(number) == [("reservation", 0, 3), ("release", 0, -1), ("shipment", -2, -2)]
    # 2 × 10.00 + the 5.00 shipping: the cancelled unit is never charged
    assert money(number) == [("capture", "25.00", "succeeded")]
    summary = payment_summary(Order.objects.get(number=number))
    assert (summary.captured, summary.refundable) == (Decimal("25.00"), Decimal("25.00"))
    assert find_ledger_mismatches() == []


def test_a_late_cancel_confirmed_after_the_rest_shipped_is_captured_at_once(
    worker, web_api, transactional_db
):
    # given: TEE at one API node, MUG at another; no beat runs here, so no sweeper
    tee_dc = NodeFactory(code="dc-tee", connector="api", priority=10)
    mug_dc = NodeFactory(code="dc-mug", connector="api", priority=10)
    stocked(tee_dc, ProductFactory(sku="TEE"), on_hand=10)
    stocked(mug_dc, ProductFactory(sku="MUG"), on_hand=10)
    tee_wms = bearer_client(create_api_client(node_code="dc-tee", name="wms-tee").key)
    mug_wms = bearer_client(create_api_client(node_code="dc-mug", name="wms-mug").key)
    number = place(web_api, "C5", [("TEE", 2), ("MUG", 1)], address=OHIO, shipping_total="5.00")
    wait_for(web_api, number, "released")
    [tee_fo] = tee_wms.get("/api/v1/fulfillments/").json()["results"]
    [mug_fo] = mug_wms.get("/api/v1/fulfillments/").json()["results"]
    tee_url, mug_url = (f"/api/v1/fulfillments/{fo['number']}" for fo in (tee_fo, mug_fo))
    for action, body in [
        ("accept", {}),
        ("ship", {"packages": [{"carrier": "UPS", "tracking_number": "1ZC5"}]}),
    ]:
        answer = tee_wms.post(f"{tee_url}/{action}/", {"message_id": action, **body}, format="json")
        assert answer.status_code == 200, answer.json()
    accepted = mug_wms.post(f"{mug_url}/accept/", {"message_id": "accept"}, format="json")
    assert accepted.status_code == 200, accepted.json()

    # when: the customer cancels the mug; the node confirms
    response = cancel(web_api, number, path="lines/2/cancel/")
    [open_request] = mug_wms.get(f"{mug_url}/").json()["open_requests"]
    confirm = mug_wms.post(
        f"{mug_url}/confirm-request/",
        {"message_id": "c1", "request": open_request["id"]},
        format="json",
    )

    # then: the tees and the shipping are charged by the worker within seconds
    assert (response.status_code, confirm.status_code) == (202, 200)
    wait_until(
        lambda: order(web_api, number)["payment"]["status"] == "paid", timeout=30, what="capture"
    )
    assert order(web_api, number)["status"] == "shipped"
    assert money(number) == [("capture", "25.00", "succeeded")]
    assert stock(mug_dc, "MUG") == (10, 0)
    assert stock(tee_dc, "TEE") == (8, 0)
    assert find_ledger_mismatches() == []
