"""Node feedback API as a contract: scope, each action, idempotent message ids, refusals."""

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import InventoryMovement, StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.events.models import Event
from ops.models import ExceptionCase
from ops.services.reconcile import reconcile_open_cases
from orders.models import Order, OrderStatus
from orders.services.api_clients import create_api_client
from tests.conftest import bearer_client
from tests.factories.inventory import stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(network, products, django_capture_on_commit_callbacks):
    """A 2-unit TEE order released to dc-east (an api node); dc-west has stock too."""
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["west"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    return FulfillmentOrder.objects.get(order=order)


@pytest.fixture
def east_api(network):
    return bearer_client(create_api_client(node_code="dc-east", name="east wms").key)


def url(fo, action=""):
    return f"/api/v1/fulfillments/{fo.number}/" + (f"{action}/" if action else "")


def event_count(fo, type_):
    return Event.objects.filter(stream=fo.order.stream, type=type_).count()


def test_the_node_sees_its_released_fulfillment(released, east_api):
    listing = east_api.get("/api/v1/fulfillments/?status=released")
    detail = east_api.get(url(released))

    assert [f["number"] for f in listing.json()["results"]] == [released.number]
    assert detail.status_code == 200
    body = detail.json()
    assert (body["status"], body["node"], body["ship_to"]["city"]) == (
        "released",
        "dc-east",
        "Columbus",
    )
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("TEE", 2)]


@pytest.mark.parametrize("method_action", ["get:", "post:accept", "post:ship"])
def test_another_node_gets_404_and_a_channel_key_403(released, network, web_api, method_action):
    west_api = bearer_client(create_api_client(node_code="dc-west", name="west").key)
    method, action = method_action.split(":")

    other = getattr(west_api, method)(url(released, action), {"message_id": "m"}, format="json")
    channel = getattr(web_api, method)(url(released, action), {"message_id": "m"}, format="json")

    assert other.status_code == 404
    assert other.json()["code"] == "fulfillment_not_found"
    assert channel.status_code == 403


def test_accept_pack_ship_deliver_through_the_api(
    released, east_api, network, products, django_capture_on_commit_callbacks
):
    # when (on-commit work, such as the payment capture, runs as in production)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = east_api.post(url(released, "accept"), {"message_id": "a-1"}, format="json")
        packed = east_api.post(url(released, "pack"), {"message_id": "p-1"}, format="json")
        shipped = east_api.post(
            url(released, "ship"),
            {
                "message_id": "s-1",
                "packages": [{"carrier": "UPS", "service": "Ground", "tracking_number": "1Z999"}],
            },
            format="json",
        )
        delivered = east_api.post(url(released, "deliver"), {"message_id": "d-1"}, format="json")

    # then
    assert [r.json()["status"] for r in (accepted, packed, shipped, delivered)] == [
        "accepted",
        "packed",
        "shipped",
        "delivered",
    ]
    assert shipped.json()["shipments"][0]["tracking_number"] == "1Z999"
    stock = StockLevel.objects.get(node=network["east"], product=products["TEE"])
    assert (stock.on_hand, stock.reserved) == (3, 0)
    order = Order.objects.get(pk=released.order_id)
    assert order.status == OrderStatus.COMPLETED
    assert order.payment_status == "paid"


def test_the_same_message_twice_has_one_effect(released, east_api):
    first = east_api.post(url(released, "accept"), {"message_id": "a-1"}, format="json")
    again = east_api.post(url(released, "accept"), {"message_id": "a-1"}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert event_count(released, "fulfillment.accepted") == 1


def test_a_message_id_reused_for_other_content_is_409(released, east_api):
    east_api.post(url(released, "reject"), {"message_id": "x", "reason": "no staff"}, format="json")

    response = east_api.post(
        url(released, "reject"), {"message_id": "x", "reason": "other"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "message_id_reused"


def test_an_illegal_step_is_409_with_the_current_status(released, east_api):
    response = east_api.post(url(released, "deliver"), {"message_id": "d-1"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "fulfillment_transition_refused"
    assert response.json()["extra"]["status"] == "released"
    assert event_count(released, "fulfillment.delivered") == 0


def test_rejection_releases_stock_and_reroutes_to_the_next_node(
    released, east_api, network, products, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = east_api.post(
            url(released, "reject"), {"message_id": "r-1", "reason": "flooded aisle"}, format="json"
        )

    # then
    assert response.json()["status"] == "rejected"
    fos = list(
        FulfillmentOrder.objects.filter(order_id=released.order_id)
        .order_by("id")
        .values_list("node__code", "status")
    )
    assert fos == [("dc-east", "rejected"), ("dc-west", "released")]
    east = StockLevel.objects.get(node=network["east"], product=products["TEE"])
    west = StockLevel.objects.get(node=network["west"], product=products["TEE"])
    assert (east.reserved, west.reserved) == (0, 2)
    decision = released.order.routing_decisions.order_by("-id").first()
    assert decision.trigger == "reroute"


def available_at(client, node_code, sku="TEE"):
    """Available units of `sku` at one node, as a channel sees them (GET /availability/)."""
    response = client.get("/api/v1/availability/", {"sku": sku, "postal_code": "43215"})
    assert response.status_code == 200
    (item,) = response.json()["items"]
    return {row["node"]: row["available"] for row in item["nodes"]}[node_code]


def test_short_pack_takes_the_missing_unit_off_the_node_and_opens_a_cycle_count(
    network, products, east_api, web_api, django_capture_on_commit_callbacks
):
    """Issue 10, item 1: a short-picked unit does not go back on sale at the node that could
    not find it; it leaves the node's on-hand, a count is asked for, and the next snapshot
    closes that case."""
    # given: 5 TEE at dc-east (the nearest), 5 at dc-west
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["west"], products["TEE"], on_hand=5)
    before_order = available_at(web_api, "dc-east")
    order = captured_order(skus=["TEE"], quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    assert fo.node.code == "dc-east"
    routed = available_at(web_api, "dc-east")

    # when: the node packs 1 of 2, one not found
    with django_capture_on_commit_callbacks(execute=True):
        response = east_api.post(
            url(fo, "pack"),
            {
                "message_id": "p-1",
                "lines": [{"line_id": fo.lines.get().pk, "quantity": 1}],
                "short_reason": "not found",
            },
            format="json",
        )

    # then: the short unit is off dc-east's on-hand and not back on sale there
    assert response.status_code == 200
    assert response.json()["lines"][0]["short_quantity"] == 1
    after_short = available_at(web_api, "dc-east")
    assert (before_order, routed, after_short) == (5, 3, 3)  # "given back" used to show 4
    assert after_short == before_order - 1 - 1  # minus the packed unit and the short one
    east = StockLevel.objects.get(node=network["east"], product=products["TEE"])
    west = StockLevel.objects.get(node=network["west"], product=products["TEE"])
    assert (east.on_hand, east.reserved, east.available) == (4, 1, 3)
    assert (west.on_hand, west.reserved) == (5, 1)  # the reroute went to dc-west
    assert find_ledger_mismatches() == []
    shortage = InventoryMovement.objects.get(reason="shortage")
    assert (shortage.node.code, shortage.delta_on_hand, shortage.delta_reserved) == (
        "dc-east",
        -1,
        -1,
    )
    recorded = Event.objects.get(type="inventory.shortage_recorded")
    assert (recorded.stream, recorded.payload["reference"]) == ("node:dc-east", fo.number)
    assert list(
        FulfillmentOrder.objects.filter(order_id=order.pk)
        .order_by("id")
        .values_list("node__code", "status")
    ) == [("dc-east", "packed"), ("dc-west", "released")]
    case = ExceptionCase.objects.get(kind="cycle_count")
    assert (case.status, case.subject_type, case.subject_label) == ("open", "node", "dc-east")
    assert [(s["sku"], s["short"]) for s in case.details["skus"]] == [("TEE", 1)]

    # when: dc-east counts (a snapshot as of now): 4 on the shelf, 1 of them packed
    snapshot = east_api.post(
        "/api/v1/inventory/snapshots/",
        {
            "node": "dc-east",
            "message_id": "count-1",
            "as_of": timezone.now().isoformat(),
            "counts": [{"sku": "TEE", "on_hand": 4}],
        },
        format="json",
    )

    # then: the cycle count is done
    assert snapshot.status_code == 200
    case.refresh_from_db()
    assert (case.status, case.resolution) == ("resolved", "condition_cleared")
    assert case.resolution_note.startswith("Counted: snapshot of dc-east")
    assert available_at(web_api, "dc-east") == 3
    assert find_ledger_mismatches() == []


def test_a_snapshot_counted_before_the_short_pick_leaves_the_cycle_count_open(
    released, east_api, network, products
):
    line_id = released.lines.get().pk
    counted_at = timezone.now()
    east_api.post(
        url(released, "pack"),
        {"message_id": "p-1", "lines": [{"line_id": line_id, "quantity": 0}], "short_reason": "x"},
        format="json",
    )

    # a count as of before the pick cannot reflect what the pick found
    stale = east_api.post(
        "/api/v1/inventory/snapshots/",
        {
            "node": "dc-east",
            "message_id": "count-old",
            "as_of": counted_at.isoformat(),
            "counts": [{"sku": "TEE", "on_hand": 5}],
        },
        format="json",
    )

    assert stale.json()["status"] == "applied"
    case = ExceptionCase.objects.get(kind="cycle_count")
    assert case.status == "open"
    # a whole line short: its reservation is closed, nothing of it left reserved at dc-east
    assert released.lines.get().reservation.status == "released"
    assert reconcile_open_cases() == []
    assert find_ledger_mismatches() == []


def test_bad_input_is_400(released, east_api):
    no_id = east_api.post(url(released, "accept"), {}, format="json")
    no_packages = east_api.post(
        url(released, "ship"), {"message_id": "s", "packages": []}, format="json"
    )
    wrong_line = east_api.post(
        url(released, "pack"),
        {"message_id": "p", "lines": [{"line_id": 999999, "quantity": 1}]},
        format="json",
    )

    assert [r.status_code for r in (no_id, no_packages, wrong_line)] == [400, 400, 400]
    assert wrong_line.json()["errors"][0]["code"] == "unknown_line"
    assert FulfillmentOrder.objects.get(pk=released.pk).status == "released"


def test_api_node_with_no_stock_elsewhere_backorders_after_rejection(
    network, products, django_capture_on_commit_callbacks
):
    stocked(network["east"], products["MUG"], on_hand=1)
    order = captured_order(skus=["MUG"])
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    api = bearer_client(create_api_client(node_code="dc-east", name="e").key)

    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(fo, "reject"), {"message_id": "r", "reason": "broken"}, format="json")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.BACKORDERED
