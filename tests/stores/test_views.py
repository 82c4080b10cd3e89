"""The store screens through django.test.Client: who sees what, every button, idempotency."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from fulfillment.models import FulfillmentOrder, FulfillmentStatus, Shipment
from fulfillment.services import labels
from fulfillment.services.feedback import (
    mark_ready_for_pickup,
    pack_fulfillment,
    start_picking,
)
from integrations.carriers.base import CarrierRequestRefused, CarrierUnavailable
from integrations.models import InboundMessage
from inventory.models import StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import ExceptionCase
from stores.models import StoreMembership
from tests.stores import scenario

pytestmark = pytest.mark.django_db

S = FulfillmentStatus
SYSTEM = Actor.system("test")


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def pickup_a(nodes, catalog, on_commit):
    """A pickup of 2 tees and 1 mug at store A, released to the store."""
    scenario.stock(nodes["a"], catalog["TEE"])
    scenario.stock(nodes["a"], catalog["MUG"])
    order = scenario.routed_order(
        external_id="PICKUP-A",
        skus=["TEE-BLK-M", "MUG-WHT"],
        quantity=2,
        pickup_at=nodes["a"],
        customer_name="Ada Lovelace",
        on_commit=on_commit,
    )
    return scenario.fulfillment_at(order, nodes["a"])


@pytest.fixture
def pickup_b(nodes, catalog, on_commit):
    scenario.stock(nodes["b"], catalog["TEE"])
    order = scenario.routed_order(
        external_id="PICKUP-B",
        skus=["TEE-BLK-M"],
        pickup_at=nodes["b"],
        customer_name="Barbara Liskov",
        on_commit=on_commit,
    )
    return scenario.fulfillment_at(order, nodes["b"])


@pytest.fixture
def ship_a(nodes, catalog, on_commit):
    """A ship-from-store order at store A (the Reno DC holds stock too, for reroutes)."""
    scenario.stock(nodes["a"], catalog["TEE"], on_hand=3)
    scenario.stock(nodes["dc"], catalog["TEE"], on_hand=50)
    order = scenario.routed_order(
        external_id="SHIP-A",
        skus=["TEE-BLK-M"],
        quantity=2,
        customer_name="Grace Hopper",
        on_commit=on_commit,
    )
    return scenario.fulfillment_at(order, nodes["a"])


def url(name: str, fo: FulfillmentOrder, **kwargs: object) -> str:
    return reverse(f"stores:{name}", kwargs={"pk": fo.pk, **kwargs})


def post(client, name: str, fo: FulfillmentOrder, token: str | None = None, **data: object):
    return client.post(url(name, fo), {"token": token or str(uuid.uuid4()), **data})


def events(fo: FulfillmentOrder, type_: str) -> list[Event]:
    return list(Event.objects.filter(stream=fo.order.stream, type=type_).order_by("seq"))


def status_of(fo: FulfillmentOrder) -> str:
    fo.refresh_from_db()
    return fo.status


def flash(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def picked_data(fo: FulfillmentOrder, short: dict[str, int] | None = None) -> dict[str, int]:
    """The pack form's quantities: everything found, minus `short` (by SKU)."""
    short = short or {}
    return {
        f"picked_{line.pk}": line.quantity - short.get(line.order_line.sku, 0)
        for line in fo.lines.select_related("order_line")
    }


# --- scoping ------------------------------------------------------------------------------------


def test_the_fixture_fulfillment_arrives_released_at_the_store(pickup_a, ship_a, nodes):
    assert pickup_a.status == S.RELEASED
    assert pickup_a.delivery_method == "pickup"
    assert ship_a.status == S.RELEASED
    assert ship_a.node == nodes["a"]


def test_anonymous_is_sent_to_the_store_login_with_next(client, pickup_a):
    for path in (reverse("stores:queue"), url("fulfillment", pickup_a)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('stores:login')}?next={path}"

    response = post(client, "start", pickup_a)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("stores:login"))
    assert status_of(pickup_a) == S.RELEASED


def test_anonymous_htmx_poll_is_told_to_reload_into_the_login(client, db):
    response = client.get(reverse("stores:queue"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("stores:login"))


def test_queue_shows_only_the_associates_own_store(alice_client, bob_client, pickup_a, pickup_b):
    alice_page = alice_client.get(reverse("stores:queue")).content.decode()
    bob_page = bob_client.get(reverse("stores:queue")).content.decode()

    assert pickup_a.order.number in alice_page
    assert "Fifth Avenue" in alice_page
    assert pickup_b.order.number not in alice_page
    assert "Brooklyn Heights" not in alice_page
    assert pickup_b.order.number in bob_page
    assert pickup_a.order.number not in bob_page


def test_another_stores_fulfillment_is_404_for_every_page_and_button(
    alice_client, pickup_a, pickup_b
):
    assert alice_client.get(url("fulfillment", pickup_b)).status_code == 404
    for action in ("start", "pack", "ready", "ship", "hand_over", "reject"):
        response = post(alice_client, action, pickup_b, pickup_code="000000", reason="other")
        assert response.status_code == 404, action
    assert alice_client.get(url("label", pickup_b, shipment_id=1)).status_code == 404

    assert status_of(pickup_b) == S.RELEASED
    assert not InboundMessage.objects.exists()
    # and the associate's own one is there
    assert alice_client.get(url("fulfillment", pickup_a)).status_code == 200


@pytest.mark.parametrize("kind", ["no_group", "no_membership", "membership_of_a_dc"])
def test_users_without_store_access_get_404(client, nodes, pickup_a, kind):
    user = get_user_model().objects.create_user(
        username="carol", password=scenario.PASSWORD, is_staff=True
    )
    if kind != "no_group":
        user.groups.add(Group.objects.get(name="store_associate"))
    if kind == "no_group":
        StoreMembership.objects.create(user=user, node=nodes["a"])
    if kind == "membership_of_a_dc":
        # a membership of a node that is not a store gives nothing
        StoreMembership.objects.create(user=user, node=nodes["dc"])
    client.force_login(user)

    assert client.get(reverse("stores:queue")).status_code == 404
    assert client.get(url("fulfillment", pickup_a)).status_code == 404
    assert post(client, "start", pickup_a).status_code == 404
    assert status_of(pickup_a) == S.RELEASED


def test_login_page_signs_in_an_associate_and_follows_next(client, alice, pickup_a):
    page = client.get(reverse("stores:login"))
    assert page.status_code == 200
    assert b"Sign in" in page.content

    response = client.post(
        reverse("stores:login"),
        {"username": "alice", "password": scenario.PASSWORD, "next": url("fulfillment", pickup_a)},
    )

    assert response.status_code == 302
    assert response["Location"] == url("fulfillment", pickup_a)
    assert client.get(response["Location"]).status_code == 200


def test_login_refuses_an_account_without_store_access_in_words(client, db):
    get_user_model().objects.create_user(
        username="cs-rep", password=scenario.PASSWORD, is_staff=True
    )

    response = client.post(
        reverse("stores:login"), {"username": "cs-rep", "password": scenario.PASSWORD}
    )

    assert response.status_code == 200
    assert "cannot use the store screens" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- the queue ----------------------------------------------------------------------------------


def test_queue_groups_work_oldest_first_with_kind_lines_age_and_due(
    alice_client, nodes, catalog, on_commit
):
    scenario.stock(nodes["a"], catalog["TEE"], on_hand=20)
    newer = scenario.routed_order(
        external_id="NEW",
        skus=["TEE-BLK-M"],
        pickup_at=nodes["a"],
        placed_hours_ago=1,
        customer_name="Newer Customer",
        on_commit=on_commit,
    )
    older = scenario.routed_order(
        external_id="OLD",
        skus=["TEE-BLK-M"],
        pickup_at=nodes["a"],
        curbside=True,
        placed_hours_ago=5,
        customer_name="Older Customer",
        on_commit=on_commit,
    )
    shipped = scenario.routed_order(
        external_id="SHIP", skus=["TEE-BLK-M"], customer_name="Ship Customer", on_commit=on_commit
    )
    ship_fo = scenario.fulfillment_at(shipped, nodes["a"])
    pack_fulfillment(fulfillment_id=ship_fo.pk, actor=SYSTEM)
    ready_fo = scenario.fulfillment_at(newer, nodes["a"])
    pack_fulfillment(fulfillment_id=ready_fo.pk, actor=SYSTEM)
    mark_ready_for_pickup(fulfillment_id=ready_fo.pk, actor=SYSTEM)

    page = alice_client.get(reverse("stores:queue")).content.decode()

    to_pick = page.index("To pick")
    packed_ship = page.index("Packed — ship")
    ready = page.index("Ready for pickup")
    assert to_pick < page.index(older.number) < packed_ship < page.index(shipped.number) < ready
    assert ready < page.index(newer.number)
    assert "Older Customer" in page
    assert "Curbside" in page
    assert "placed 5 h ago" in page
    assert "1 line · 1 unit" in page
    assert 'class="due ' in page  # ship-by of the work to do
    assert "Collect by" in page  # the ready pickup's deadline
    assert 'hx-trigger="every 30s"' in page


def test_queue_htmx_poll_returns_only_the_list(alice_client, pickup_a):
    response = alice_client.get(reverse("stores:queue"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="queue"')
    assert "<html" not in body
    assert pickup_a.order.number in body


def test_finished_work_leaves_the_queue_but_its_page_still_shows_the_outcome(
    alice_client, pickup_a
):
    pickup_a.refresh_from_db()
    pack_fulfillment(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    mark_ready_for_pickup(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    pickup_a.refresh_from_db()
    post(alice_client, "hand_over", pickup_a, pickup_code=pickup_a.pickup_code)

    assert pickup_a.order.number not in alice_client.get(reverse("stores:queue")).content.decode()
    assert "Picked up" in alice_client.get(url("fulfillment", pickup_a)).content.decode()


# --- the buttons --------------------------------------------------------------------------------


def test_pick_list_shows_the_lines_and_a_tokened_start_button(alice_client, pickup_a):
    page = alice_client.get(url("fulfillment", pickup_a)).content.decode()

    assert "TEE-BLK-M" in page
    assert "Black tee, M" in page
    assert "White mug" in page
    assert "Start picking" in page
    tokens = re.findall(r'name="token" value="([0-9a-f-]{36})"', page)
    assert len(tokens) == len(set(tokens)) >= 2  # start + reject, each its own token


def test_start_picking_accepts_and_starts(alice_client, alice, pickup_a):
    response = post(alice_client, "start", pickup_a)

    assert response.status_code == 302
    assert response["Location"] == url("fulfillment", pickup_a)
    pickup_a.refresh_from_db()
    assert pickup_a.status == S.PICKING
    assert pickup_a.accepted_at is not None
    (event,) = events(pickup_a, "fulfillment.picking")
    assert (event.actor_kind, event.actor_label) == ("user", "alice")
    message = InboundMessage.objects.get()
    assert message.source == "store:alice"
    assert message.kind == "fulfillment.pick"
    assert "Picking started" in flash(response)[0]


def test_confirm_picked_packs_everything(alice_client, pickup_a):
    start_picking(fulfillment_id=pickup_a.pk, actor=SYSTEM)

    response = post(alice_client, "pack", pickup_a, **picked_data(pickup_a), short_reason="")

    assert response.status_code == 302
    assert status_of(pickup_a) == S.PACKED
    assert sorted(pickup_a.lines.values_list("picked_quantity", "short_quantity")) == [
        (2, 0),
        (2, 0),
    ]
    assert "Next: mark it ready for pickup" in flash(response)[0]
    page = alice_client.get(url("fulfillment", pickup_a)).content.decode()
    assert "Mark ready for pickup" in page


def test_a_short_pick_needs_a_reason(alice_client, pickup_a):
    start_picking(fulfillment_id=pickup_a.pk, actor=SYSTEM)

    response = post(
        alice_client, "pack", pickup_a, **picked_data(pickup_a, {"MUG-WHT": 1}), short_reason=""
    )

    assert response.status_code == 400
    assert "Some units are missing: say why." in response.content.decode()
    assert status_of(pickup_a) == S.PICKING


def test_nothing_picked_at_all_points_to_reject(alice_client, pickup_a):
    start_picking(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    nothing = dict.fromkeys(picked_data(pickup_a), 0)

    response = post(alice_client, "pack", pickup_a, **nothing, short_reason="not_found")

    assert response.status_code == 400
    assert "Reject the order instead" in response.content.decode()
    assert status_of(pickup_a) == S.PICKING


def test_picked_more_than_asked_is_refused_in_words(alice_client, pickup_a):
    start_picking(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    data = picked_data(pickup_a)
    data[next(iter(data))] = 9

    response = post(alice_client, "pack", pickup_a, **data)

    assert response.status_code == 400
    assert "At most 2" in response.content.decode()
    assert status_of(pickup_a) == S.PICKING


def test_short_pick_is_rerouted_and_the_short_quantity_recorded(
    alice_client, ship_a, nodes, on_commit
):
    start_picking(fulfillment_id=ship_a.pk, actor=SYSTEM)

    with on_commit():
        response = post(
            alice_client,
            "pack",
            ship_a,
            **picked_data(ship_a, {"TEE-BLK-M": 1}),
            short_reason="damaged",
        )

    assert response.status_code == 302
    (message,) = flash(response)
    assert "1 unit short (damaged)" in message
    assert "rerouted" in message
    line = ship_a.lines.get()
    assert (line.picked_quantity, line.short_quantity, line.short_reason) == (1, 1, "damaged")
    assert status_of(ship_a) == S.PACKED
    # the system rerouted the missing unit to the DC
    rerouted = scenario.fulfillment_at(ship_a.order, nodes["dc"])
    assert rerouted.lines.get().quantity == 1
    page = alice_client.get(url("fulfillment", ship_a)).content.decode()
    assert "1 short (damaged)" in page
    # the missing unit left the store's on-hand (not back on sale there); a count is asked for
    level = StockLevel.objects.get(node=nodes["a"], product__sku="TEE-BLK-M")
    assert (level.on_hand, level.reserved, level.available) == (2, 1, 1)
    assert find_ledger_mismatches() == []
    case = ExceptionCase.objects.get(kind="cycle_count")
    assert (case.subject_label, [s["sku"] for s in case.details["skus"]]) == (
        nodes["a"].code,
        ["TEE-BLK-M"],
    )


def test_mark_ready_issues_a_code_without_showing_it(alice_client, pickup_a):
    pack_fulfillment(fulfillment_id=pickup_a.pk, actor=SYSTEM)

    response = post(alice_client, "ready", pickup_a)

    assert response.status_code == 302
    pickup_a.refresh_from_db()
    assert pickup_a.status == S.READY_FOR_PICKUP
    assert len(pickup_a.pickup_code) == 8
    assert "ready notice went out" in flash(response)[0]
    page = alice_client.get(url("fulfillment", pickup_a)).content.decode()
    assert "Pickup code issued" in page
    assert "Ready notice sent out" in page
    assert pickup_a.pickup_code not in page
    assert "Hand over" in page


def test_hand_over_with_the_right_code(alice_client, pickup_a):
    pack_fulfillment(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    mark_ready_for_pickup(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    pickup_a.refresh_from_db()
    code = pickup_a.pickup_code

    response = post(alice_client, "hand_over", pickup_a, pickup_code=f" {code} ")

    assert response.status_code == 302
    assert status_of(pickup_a) == S.PICKED_UP
    assert len(events(pickup_a, "fulfillment.picked_up")) == 1
    assert "Handed over to Ada Lovelace" in flash(response)[0]
    # the code the customer showed is not kept in the inbound message log
    assert code not in str(InboundMessage.objects.get().payload)
    # used: no longer kept in clear anywhere (docs/security.md, "Pickup codes")
    pickup_a.refresh_from_db()
    assert pickup_a.pickup_code == ""


def test_a_wrong_pickup_code_shows_the_error_and_changes_nothing(alice_client, pickup_a):
    pack_fulfillment(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    mark_ready_for_pickup(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    pickup_a.refresh_from_db()
    wrong = "000000" if pickup_a.pickup_code != "000000" else "111111"

    response = post(alice_client, "hand_over", pickup_a, pickup_code=wrong)

    assert response.status_code == 400
    assert "That pickup code does not match" in response.content.decode()
    assert status_of(pickup_a) == S.READY_FOR_PICKUP
    assert events(pickup_a, "fulfillment.picked_up") == []
    assert not InboundMessage.objects.filter(kind="fulfillment.hand_over").exists()


def test_print_label_and_ship_then_download_the_label(alice_client, bob_client, ship_a):
    pack_fulfillment(fulfillment_id=ship_a.pk, actor=SYSTEM)
    page = alice_client.get(url("fulfillment", ship_a)).content.decode()
    assert "Print label &amp; ship" in page

    response = post(alice_client, "ship", ship_a)

    assert response.status_code == 302
    assert status_of(ship_a) == S.SHIPPED
    shipment = Shipment.objects.get(fulfillment=ship_a)
    page = alice_client.get(url("fulfillment", ship_a)).content.decode()
    label_url = url("label", ship_a, shipment_id=shipment.pk)
    assert label_url in page
    assert shipment.tracking_number in page
    label = alice_client.get(label_url)
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")
    assert bob_client.get(label_url).status_code == 404


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (CarrierUnavailable("timeout", "no answer in 10 s"), "The carrier did not answer"),
        (CarrierRequestRefused("invalid_address", "unknown street"), "unknown street"),
    ],
)
def test_a_carrier_failure_is_shown_in_words_and_nothing_ships(
    alice_client, ship_a, monkeypatch, error, words
):
    pack_fulfillment(fulfillment_id=ship_a.pk, actor=SYSTEM)

    def fail(request):
        raise error

    monkeypatch.setattr(labels.CARRIER, "buy_labels", fail)

    response = post(alice_client, "ship", ship_a)

    assert response.status_code == 409
    assert words in response.content.decode()
    assert "Print label &amp; ship" in response.content.decode()  # try again
    assert status_of(ship_a) == S.PACKED
    assert not Shipment.objects.exists()


def test_reject_needs_a_reason(alice_client, pickup_a):
    response = post(alice_client, "reject", pickup_a, reason="")

    assert response.status_code == 400
    assert "Choose why the store cannot do it." in response.content.decode()
    assert status_of(pickup_a) == S.RELEASED


def test_reject_sends_the_order_back_to_routing(alice_client, ship_a, nodes, on_commit):
    with on_commit():
        response = post(alice_client, "reject", ship_a, reason="damaged", note="box crushed")

    assert response.status_code == 302
    assert "rerouting" in flash(response)[0]
    ship_a.refresh_from_db()
    assert ship_a.status == S.REJECTED
    assert ship_a.close_reason == "Items damaged: box crushed"
    rerouted = scenario.fulfillment_at(ship_a.order, nodes["dc"])
    assert rerouted.status == S.RELEASED
    page = alice_client.get(url("fulfillment", ship_a)).content.decode()
    assert "Rejected by the store" in page


def test_a_refused_transition_is_shown_in_words_not_a_500(alice_client, pickup_a):
    pack_fulfillment(fulfillment_id=pickup_a.pk, actor=SYSTEM)  # someone else was quicker

    response = post(alice_client, "start", pickup_a)

    assert response.status_code == 409
    assert "cannot start picking now" in response.content.decode()
    assert status_of(pickup_a) == S.PACKED


# --- idempotency: a double tap does the work once -----------------------------------------------


def _prepare(fo: FulfillmentOrder, action: str) -> dict[str, object]:
    if action in ("pack", "ready", "ship", "hand_over"):
        start_picking(fulfillment_id=fo.pk, actor=SYSTEM)
    if action in ("ready", "ship", "hand_over"):
        pack_fulfillment(fulfillment_id=fo.pk, actor=SYSTEM)
    if action == "hand_over":
        mark_ready_for_pickup(fulfillment_id=fo.pk, actor=SYSTEM)
        fo.refresh_from_db()
        return {"pickup_code": fo.pickup_code}
    if action == "pack":
        return picked_data(fo)
    if action == "reject":
        return {"reason": "no_staff"}
    return {}


@pytest.mark.parametrize(
    ("action", "event_type", "target"),
    [
        ("start", "fulfillment.picking", S.PICKING),
        ("pack", "fulfillment.packed", S.PACKED),
        ("ready", "fulfillment.ready_for_pickup", S.READY_FOR_PICKUP),
        ("hand_over", "fulfillment.picked_up", S.PICKED_UP),
        ("reject", "fulfillment.rejected", S.REJECTED),
    ],
)
def test_the_same_form_posted_twice_has_one_effect(
    alice_client, pickup_a, on_commit, action, event_type, target
):
    data = _prepare(pickup_a, action)
    token = str(uuid.uuid4())

    with on_commit():
        first = post(alice_client, action, pickup_a, token=token, **data)
        second = post(alice_client, action, pickup_a, token=token, **data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert status_of(pickup_a) == target
    assert len(events(pickup_a, event_type)) == 1
    assert InboundMessage.objects.filter(source="store:alice", message_id=token).count() == 1


def test_print_label_and_ship_twice_buys_and_ships_once(alice_client, ship_a):
    pack_fulfillment(fulfillment_id=ship_a.pk, actor=SYSTEM)
    token = str(uuid.uuid4())

    first = post(alice_client, "ship", ship_a, token=token)
    second = post(alice_client, "ship", ship_a, token=token)

    assert (first.status_code, second.status_code) == (302, 302)
    assert status_of(ship_a) == S.SHIPPED
    assert Shipment.objects.filter(fulfillment=ship_a).count() == 1
    assert len(events(ship_a, "fulfillment.shipped")) == 1


def test_a_new_form_is_a_new_action(alice_client, pickup_a):
    post(alice_client, "start", pickup_a)

    again = post(alice_client, "start", pickup_a)  # a second, freshly rendered form

    assert again.status_code == 409
    assert len(events(pickup_a, "fulfillment.picking")) == 1


def test_a_form_token_reused_on_another_fulfillment_is_refused_in_words(
    alice_client, pickup_a, ship_a
):
    token = str(uuid.uuid4())
    assert post(alice_client, "start", pickup_a, token=token).status_code == 302

    other_order = post(alice_client, "start", ship_a, token=token)
    other_action = post(alice_client, "reject", pickup_a, token=token, reason="no_staff")

    assert (other_order.status_code, other_action.status_code) == (409, 409)
    assert other_order.context["error"].code == "message_id_reused"
    assert pickup_a.number in other_order.content.decode()
    assert other_action.context["error"].extra["action"] == "pick"
    assert (status_of(ship_a), status_of(pickup_a)) == (S.RELEASED, S.PICKING)
    assert events(ship_a, "fulfillment.picking") == []
