"""A node message id names one message: per node client, the same id is the same message only
for the same fulfillment order, the same action and the same body (issue 10, item 2).

- the same id, target, action and body again: the first answer, no second effect;
- the same id on another fulfillment order, for another action or with another body: 409
  `message_id_reused`, naming the fulfillment order and action it was first used for, and
  nothing changes.

Through the node API for all ten feedback actions (the eight steps and the two answers to a
node request), and for 945 advices."""

import pytest

from fulfillment.api.node_messages import ACTIONS
from fulfillment.models import FulfillmentOrder, FulfillmentStatus, NodeRequest, Shipment
from fulfillment.services.feedback import mark_ready_for_pickup, pack_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.order_cancellation import cancel_order
from fulfillment.services.shipping import Package, ship_fulfillment
from fulfillment.x12.inbox import import_945_file
from integrations.models import InboundMessage
from oms.core.actors import Actor
from oms.events.models import Event
from orders.services.api_clients import create_api_client
from tests.conftest import bearer_client
from tests.factories.inventory import stocked
from tests.factories.orders import captured_order
from tests.fulfillment.x12_support import advice_for, drop_945

pytestmark = pytest.mark.django_db

NODE = Actor.system("test node")

# action path → (status the fulfillment order must be in, body besides message_id, its event,
# the status it moves to)
CASES = {
    "accept": ("released", {}, "fulfillment.accepted", "accepted"),
    "reject": ("released", {"reason": "flooded aisle"}, "fulfillment.rejected", "rejected"),
    "pick": ("released", {}, "fulfillment.picking", "picking"),
    "pack": ("released", {}, "fulfillment.packed", "packed"),
    "ship": (
        "released",
        {"packages": [{"carrier": "UPS", "service": "Ground", "tracking_number": "1ZSAME"}]},
        "fulfillment.shipped",
        "shipped",
    ),
    "deliver": ("shipped", {}, "fulfillment.delivered", "delivered"),
    "ready": ("packed", {}, "fulfillment.ready_for_pickup", "ready_for_pickup"),
    "hand-over": ("ready_for_pickup", {}, "fulfillment.picked_up", "picked_up"),
    # answers to a cancel request for the order's one unit (the request id is added per order)
    "confirm-request": ("released", {}, "order.line_cancelled", "cancelled"),
    "refuse-request": ("released", {"reason": "parcel left"}, "order.cancel_refused", "released"),
}


def test_the_cases_cover_every_feedback_action_of_the_node_api():
    assert sorted(CASES) == sorted(action.path for action in ACTIONS)
    assert len(CASES) == 10


@pytest.fixture
def make_fo(network, products, django_capture_on_commit_callbacks):
    """A fulfillment order brought to `status`: shipped from dc-east, or picked up at the
    store for ready and hand-over; each call is a new order."""
    stocked(network["east"], products["TEE"], on_hand=50)
    stocked(network["nyc"], products["TEE"], on_hand=50)
    made = iter(range(1, 100))

    def _make(status: str, *, pickup: bool = False) -> FulfillmentOrder:
        delivery = (
            {
                "delivery_method": "pickup",
                "pickup_node_code": network["nyc"].code,
                "shipping_address": None,
            }
            if pickup
            else {}
        )
        order = captured_order(
            external_id=f"EXT-{next(made)}", skus=["TEE"], quantity=1, **delivery
        )
        with django_capture_on_commit_callbacks(execute=True):
            orchestrate_order(order_id=order.pk)
        fo = FulfillmentOrder.objects.get(order=order)
        with django_capture_on_commit_callbacks(execute=True):
            if status in ("packed", "ready_for_pickup"):
                pack_fulfillment(fulfillment_id=fo.pk, actor=NODE)
            if status == "ready_for_pickup":
                mark_ready_for_pickup(fulfillment_id=fo.pk, actor=NODE)
            if status == "shipped":
                ship_fulfillment(
                    fulfillment_id=fo.pk,
                    packages=[Package(carrier="UPS", tracking_number=f"1Z{fo.pk}")],
                    actor=NODE,
                )
        fo.refresh_from_db()
        assert fo.status == status
        return fo

    return _make


@pytest.fixture
def east_api(network):
    return bearer_client(create_api_client(node_code="dc-east", name="east wms").key)


@pytest.fixture
def nyc_api(network):
    return bearer_client(create_api_client(node_code="store-nyc", name="nyc pos").key)


def two_fulfillments(action, make_fo, east_api, nyc_api):
    """Two fulfillment orders (A, B) where `action` can be done, the node's client, and the
    body of `action` for A."""
    status, body, _, _ = CASES[action]
    pickup = action in ("ready", "hand-over")
    a, b = make_fo(status, pickup=pickup), make_fo(status, pickup=pickup)
    if action == "hand-over":
        body = {"pickup_code": a.pickup_code}
    if action.endswith("-request"):
        for fo in (a, b):
            cancel_order(order_id=fo.order_id, actor=NODE, reason="customer asked")
        body = {**body, "request": NodeRequest.objects.get(fulfillment=a).pk}
    return a, b, (nyc_api if pickup else east_api), body


def url(fo, action):
    return f"/api/v1/fulfillments/{fo.number}/{action}/"


def events_of(fo):
    return Event.objects.filter(stream=fo.order.stream).count()


def status_of(fo):
    return FulfillmentOrder.objects.values_list("status", flat=True).get(pk=fo.pk)


def event_count(fo, type_):
    return Event.objects.filter(stream=fo.order.stream, type=type_).count()


@pytest.mark.parametrize("action", list(CASES))
def test_the_same_message_again_is_a_duplicate_with_one_effect(action, make_fo, east_api, nyc_api):
    a, _, api, body = two_fulfillments(action, make_fo, east_api, nyc_api)
    _, _, event, moved_to = CASES[action]
    request = {"message_id": "m-1", **body}

    first = api.post(url(a, action), request, format="json")
    events_after_first = events_of(a)
    again = api.post(url(a, action), request, format="json")

    assert (first.status_code, again.status_code) == (200, 200), again.json()
    assert first.json()["status"] == again.json()["status"] == moved_to
    assert status_of(a) == moved_to
    assert event_count(a, event) == 1
    assert events_of(a) == events_after_first
    assert InboundMessage.objects.filter(message_id="m-1").count() == 1


@pytest.mark.parametrize("action", list(CASES))
def test_the_same_message_id_on_another_fulfillment_is_409_and_changes_nothing(
    action, make_fo, east_api, nyc_api
):
    a, b, api, body = two_fulfillments(action, make_fo, east_api, nyc_api)
    _, _, event, moved_to = CASES[action]
    request = {"message_id": "m-1", **body}
    assert api.post(url(a, action), request, format="json").status_code == 200
    b_status, b_events = status_of(b), events_of(b)

    response = api.post(url(b, action), request, format="json")

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "message_id_reused"
    assert error["extra"] == {
        "message_id": "m-1",
        "fulfillment": a.number,
        "action": action.replace("-", "_"),
    }
    assert a.number in error["detail"]
    assert (status_of(b), events_of(b), event_count(b, event)) == (b_status, b_events, 0)
    assert status_of(a) == moved_to
    # The refusal is not kept: the id still names the first message only.
    kept = InboundMessage.objects.filter(message_id="m-1").values_list("subject", "status")
    assert list(kept) == [(a.number, "processed")]


@pytest.mark.parametrize("action", list(CASES))
def test_the_same_message_id_for_another_action_on_the_same_fulfillment_is_409(
    action, make_fo, east_api, nyc_api
):
    a, _, api, body = two_fulfillments(action, make_fo, east_api, nyc_api)
    assert api.post(url(a, action), {"message_id": "m-1", **body}, format="json").status_code == 200
    other = "accept" if action == "pick" else "pick"
    a_status, a_events = status_of(a), events_of(a)

    # the same body, {"message_id": "m-1"}, for another action
    response = api.post(url(a, other), {"message_id": "m-1"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "message_id_reused"
    assert response.json()["extra"]["action"] == action.replace("-", "_")
    assert (status_of(a), events_of(a)) == (a_status, a_events)


# The body is compared as validated (unknown keys are refused, issue 13): another body is
# another value of a field the action declares. Actions whose only field is message_id have no
# other body; a key they do not declare is refused before the id is looked at.
OTHER_BODY = {
    "reject": {"reason": "another reason"},
    "pack": {"short_reason": "another note"},
    "ship": {"packages": [{"carrier": "UPS", "service": "Ground", "tracking_number": "1ZOTHER"}]},
    "deliver": {"delivered_at": "2026-11-02T10:00:00Z"},
}


@pytest.mark.parametrize("action", list(OTHER_BODY))
def test_the_same_message_id_with_another_body_is_409(action, make_fo, east_api, nyc_api):
    a, _, api, body = two_fulfillments(action, make_fo, east_api, nyc_api)
    assert api.post(url(a, action), {"message_id": "m-1", **body}, format="json").status_code == 200
    a_status, a_events = status_of(a), events_of(a)

    response = api.post(
        url(a, action), {"message_id": "m-1", **body, **OTHER_BODY[action]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "message_id_reused"
    assert (status_of(a), events_of(a)) == (a_status, a_events)


@pytest.mark.parametrize("action", list(CASES))
def test_a_key_the_action_does_not_declare_is_refused_and_changes_nothing(
    action, make_fo, east_api, nyc_api
):
    a, _, api, body = two_fulfillments(action, make_fo, east_api, nyc_api)
    a_status, a_events = status_of(a), events_of(a)

    response = api.post(
        url(a, action), {"message_id": "m-1", **body, "note": "other content"}, format="json"
    )

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("unknown_field", "note")
    ]
    assert (status_of(a), events_of(a)) == (a_status, a_events)
    assert not InboundMessage.objects.filter(message_id="m-1").exists()


def test_the_issue_repro_accept_a_then_b_then_pick_a(make_fo, east_api):
    a, b = make_fo("released"), make_fo("released")

    accepted = east_api.post(url(a, "accept"), {"message_id": "m"}, format="json")
    on_b = east_api.post(url(b, "accept"), {"message_id": "m"}, format="json")
    pick_a = east_api.post(url(a, "pick"), {"message_id": "m"}, format="json")

    assert (accepted.status_code, on_b.status_code, pick_a.status_code) == (200, 409, 409)
    assert on_b.json()["extra"] == {"message_id": "m", "fulfillment": a.number, "action": "accept"}
    assert (status_of(a), status_of(b)) == ("accepted", "released")


def test_a_refused_message_kept_as_failed_cannot_be_replayed_on_another_fulfillment(
    make_fo, east_api
):
    # given: deliver on a released fulfillment is refused, and kept (failed) under its id
    a, b = make_fo("released"), make_fo("shipped")
    refused = east_api.post(url(a, "deliver"), {"message_id": "d-1"}, format="json")
    assert refused.json()["code"] == "fulfillment_transition_refused"

    # when: the same message for a fulfillment where it would apply
    response = east_api.post(url(b, "deliver"), {"message_id": "d-1"}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["extra"]["fulfillment"] == a.number
    assert status_of(b) == "shipped"
    kept = InboundMessage.objects.get(message_id="d-1")
    assert (kept.subject, kept.status, kept.attempts, kept.error_code) == (
        a.number,
        "failed",
        1,
        "fulfillment_transition_refused",
    )


def test_message_ids_are_per_node_client(make_fo, network):
    """Two clients of the same node each have their own ids."""
    a, b = make_fo("released"), make_fo("released")
    wms = bearer_client(create_api_client(node_code="dc-east", name="wms").key)
    scanner = bearer_client(create_api_client(node_code="dc-east", name="scanner").key)

    first = wms.post(url(a, "accept"), {"message_id": "m"}, format="json")
    second = scanner.post(url(b, "accept"), {"message_id": "m"}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    assert (status_of(a), status_of(b)) == ("accepted", "accepted")


def test_the_schema_documents_the_409_on_every_feedback_endpoint(east_api, client):
    schema = client.get("/api/schema/?format=json").json()

    for action in ACTIONS:
        path = f"/api/v1/fulfillments/{{number}}/{action.path}/"
        conflict = schema["paths"][path]["post"]["responses"]["409"]
        assert "message_id_reused" in conflict["description"], action.path


# -- 945 advices ---------------------------------------------------------------------------


def test_a_945_advice_id_reused_for_another_fulfillment_is_refused(
    x12_node, products, release, x12_dirs
):
    # given: an advice for A applied under 000007001-7001-0001
    stocked(x12_node, products["TEE"], on_hand=5)
    a = release(external_id="EXT-A", skus=["TEE"], quantity=1)
    b = release(external_id="EXT-B", skus=["TEE"], quantity=1)
    import_945_file(drop_945(x12_dirs.inbox, "945-a.edi", advice_for(a), control_number=7001))
    assert status_of(a) == "shipped"

    # when: the warehouse sends B's advice under the same control numbers
    result = import_945_file(
        drop_945(x12_dirs.inbox, "945-b.edi", advice_for(b), control_number=7001)
    )

    # then: refused, B unchanged, and the id still names A's advice only
    (advice,) = result.advices
    assert (result.status, advice.outcome, advice.error_code) == (
        "failed",
        "failed",
        "message_id_reused",
    )
    assert a.number in advice.error
    assert status_of(b) == FulfillmentStatus.RELEASED
    assert not Shipment.objects.filter(fulfillment=b).exists()
    assert list(InboundMessage.objects.values_list("subject", "kind", "status")) == [
        (a.number, "x12.945", "processed")
    ]


def test_the_same_945_again_is_still_a_duplicate(x12_node, products, release, x12_dirs):
    stocked(x12_node, products["TEE"], on_hand=5)
    a = release(skus=["TEE"], quantity=1)
    import_945_file(drop_945(x12_dirs.inbox, "945-a.edi", advice_for(a)))

    result = import_945_file(drop_945(x12_dirs.inbox, "945-again.edi", advice_for(a)))

    assert [advice.outcome for advice in result.advices] == ["duplicate"]
    assert Shipment.objects.filter(fulfillment=a).count() == 1
