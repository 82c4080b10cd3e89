"""The store screens in a real browser (Chromium through Playwright) on a phone-sized viewport,
against pytest-django's live server. Each step leaves a screenshot in
test-artifacts/e2e/<test name>/NN-step.png (git-ignored) to look at.

The live server answers in its own thread with real transactions, so these tests are
transactional and on-commit work (release, reroute) runs as in production, inline with
CELERY_TASK_ALWAYS_EAGER.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from oms.events.models import Event
from tests.e2e.harness import CHROMIUM, Browser, launch
from tests.stores import scenario

PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]

S = FulfillmentStatus


class Phone(Browser):
    def tap(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()
        self.page.wait_for_load_state("load")

    def sign_in(self, username: str) -> None:
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(scenario.PASSWORD)
        self.tap("Sign in")


@pytest.fixture
def phone(request, live_server, monkeypatch) -> Iterator[Phone]:
    yield from launch(
        request,
        live_server,
        monkeypatch,
        Phone,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def nodes(transactional_db):
    return scenario.network()


@pytest.fixture
def catalog(transactional_db):
    return scenario.products()


def test_bopis_pick_ready_and_hand_over(phone, nodes, catalog):
    store = nodes["a"]
    scenario.stock(store, catalog["TEE"])
    scenario.stock(store, catalog["MUG"])
    scenario.stock(nodes["dc"], catalog["TEE"], on_hand=50)
    scenario.associate("alice", store)
    order = scenario.routed_order(
        external_id="BOPIS-1",
        skus=["TEE-BLK-M", "MUG-WHT"],
        quantity=2,
        pickup_at=store,
        customer_name="Ada Lovelace",
        placed_hours_ago=3,
    )
    # other work in the same queue, so the screens look like a real morning
    scenario.routed_order(
        external_id="CURB-1",
        skus=["MUG-WHT"],
        pickup_at=store,
        curbside=True,
        customer_name="Katherine Johnson",
        placed_hours_ago=1,
    )
    scenario.routed_order(
        external_id="SHIP-1", skus=["TEE-BLK-M"], customer_name="Grace Hopper", placed_hours_ago=2
    )
    fo = scenario.fulfillment_at(order, store)
    assert fo.status == S.RELEASED

    phone.open("/store/")
    expect(phone.page).to_have_url(re.compile(r"/store/login/\?next=/store/$"))
    phone.shot("login")
    phone.sign_in("alice")
    expect(phone.page.get_by_role("heading", name="Fifth Avenue")).to_be_visible()
    card = phone.page.locator("a.card-link", has_text=order.number)
    expect(card).to_contain_text("Ada Lovelace")
    expect(card).to_contain_text("Pickup")
    expect(card).to_contain_text("placed 3 h ago")
    # htmx (django-htmx's copy) is loaded, so the queue refreshes itself every 30 s
    assert phone.page.evaluate("() => typeof window.htmx") == "object"
    expect(phone.page.locator("#queue")).to_have_attribute("hx-trigger", "every 30s")
    phone.shot("queue")

    card.click()
    expect(phone.page.locator("h1.order-no")).to_have_text(order.number)
    expect(phone.page.get_by_text("Black tee, M")).to_be_visible()
    phone.shot("pick-list")

    phone.tap("Start picking")
    expect(phone.page.locator(".flash")).to_contain_text("Picking started")
    expect(phone.page.locator("input.qty-input")).to_have_count(2)
    phone.shot("picking")

    phone.tap("Confirm picked")
    expect(phone.page.locator(".flash")).to_contain_text("Packed")
    phone.shot("packed")

    phone.tap("Mark ready for pickup")
    expect(phone.page.locator(".flash")).to_contain_text("ready notice went out")
    expect(phone.page.get_by_text("Pickup code issued")).to_be_visible()
    expect(phone.page.get_by_text("Ready notice sent out")).to_be_visible()
    fo.refresh_from_db()
    assert fo.status == S.READY_FOR_PICKUP
    assert fo.pickup_code not in phone.page.content()
    phone.shot("ready")

    wrong = "000000" if fo.pickup_code != "000000" else "111111"
    phone.page.locator("input[name=pickup_code]").fill(wrong)
    phone.tap("Hand over")
    expect(phone.page.get_by_role("alert")).to_contain_text("That pickup code does not match")
    fo.refresh_from_db()
    assert fo.status == S.READY_FOR_PICKUP
    phone.shot("wrong-code")

    phone.page.locator("input[name=pickup_code]").fill(fo.pickup_code)
    phone.tap("Hand over")
    expect(phone.page.locator(".badge")).to_have_text("Picked up")
    expect(phone.page.locator(".flash")).to_contain_text("Handed over to Ada Lovelace")
    phone.shot("picked-up")

    fo.refresh_from_db()
    assert fo.status == S.PICKED_UP
    assert Event.objects.filter(stream=order.stream, type="fulfillment.picked_up").count() == 1

    phone.page.get_by_role("link", name="‹ Queue").click()
    expect(phone.page.locator("a.card-link", has_text=order.number)).to_have_count(0)
    phone.shot("queue-after")


def test_reject_sends_the_order_to_another_node(phone, nodes, catalog):
    store = nodes["a"]
    scenario.stock(store, catalog["TEE"], on_hand=3)
    scenario.stock(nodes["dc"], catalog["TEE"], on_hand=50)
    scenario.associate("alice", store)
    order = scenario.routed_order(
        external_id="SHIP-REJECT",
        skus=["TEE-BLK-M"],
        quantity=2,
        customer_name="Grace Hopper",
        placed_hours_ago=4,
    )
    fo = scenario.fulfillment_at(order, store)
    assert fo.status == S.RELEASED

    phone.open(f"/store/fulfillments/{fo.pk}/")
    phone.sign_in("alice")
    expect(phone.page.locator("h1.order-no")).to_have_text(order.number)
    expect(phone.page.locator(".kind")).to_have_text("Ship")
    phone.shot("pick-list")

    phone.page.get_by_text("Can't fulfil it? Reject…").click()
    phone.page.locator("select[name=reason]").select_option(label="Items damaged")
    phone.page.locator("input[name=note]").fill("water damage on the shelf")
    phone.shot("reject-form")

    phone.tap("Reject order")
    expect(phone.page.locator(".flash")).to_contain_text("rerouting")
    expect(phone.page.get_by_role("heading", name="Rejected by the store")).to_be_visible()
    phone.shot("rejected")

    fo.refresh_from_db()
    assert fo.status == S.REJECTED
    assert fo.close_reason == "Items damaged: water damage on the shelf"
    rerouted = FulfillmentOrder.objects.filter(order=order).exclude(pk=fo.pk).get()
    assert rerouted.node == nodes["dc"]
    assert rerouted.status == S.RELEASED
    assert rerouted.lines.get().quantity == 2
    assert Event.objects.filter(stream=order.stream, type="fulfillment.rejected").count() == 1

    phone.page.get_by_role("link", name="‹ Queue").click()
    expect(phone.page.locator("a.card-link", has_text=order.number)).to_have_count(0)
    phone.shot("queue-after")


def test_ship_from_store_pick_label_and_ship(phone, nodes, catalog):
    store = nodes["a"]
    scenario.stock(store, catalog["TEE"], on_hand=5)
    scenario.stock(store, catalog["MUG"], on_hand=5)
    scenario.associate("alice", store)
    order = scenario.routed_order(
        external_id="SHIP-LABEL",
        skus=["TEE-BLK-M", "MUG-WHT"],
        customer_name="Grace Hopper",
        placed_hours_ago=6,
    )
    fo = scenario.fulfillment_at(order, store)

    phone.open("/store/")
    phone.sign_in("alice")
    phone.page.locator("a.card-link", has_text=order.number).click()
    phone.tap("Start picking")
    phone.tap("Confirm picked")
    expect(phone.page.locator(".flash")).to_contain_text("print the label and ship")
    phone.page.get_by_role("link", name="‹ Queue").click()
    packed = phone.page.locator(".group-packed_ship a.card-link", has_text=order.number)
    expect(packed).to_be_visible()
    phone.shot("queue-packed")

    packed.click()
    phone.shot("packed")
    phone.tap("Print label & ship")
    expect(phone.page.locator(".flash")).to_contain_text("Shipped")
    label = phone.page.get_by_role("link", name="Download label (PDF)")
    expect(label).to_be_visible()
    phone.shot("shipped")

    response = phone.page.request.get(f"{phone.base_url}{label.get_attribute('href')}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    fo.refresh_from_db()
    assert fo.status == S.SHIPPED
    assert fo.shipments.count() == 1


def test_store_sign_in_locks_after_wrong_passwords(phone, nodes, settings):
    """django-axes on the store login, in Chromium: the locked page is the store's own."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    scenario.associate("alice", nodes["a"])
    phone.open("/store/login/")
    for _ in range(3):
        phone.page.locator("input[name=username]").fill("alice")
        phone.page.locator("input[name=password]").fill("not-the-password")
        phone.tap("Sign in")
        if phone.page.get_by_role("heading", name="Sign-in locked").count():
            break
        expect(phone.page.get_by_role("alert")).to_contain_text("correct username")
    expect(phone.page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
    expect(phone.page.get_by_role("alert")).to_contain_text("Too many wrong passwords")
    phone.shot("sign-in-locked")

    phone.page.get_by_role("link", name="Back to sign-in").click()
    phone.sign_in("alice")  # the right password: still locked
    expect(phone.page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
