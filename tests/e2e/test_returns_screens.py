"""Returns in a real browser (Chromium through Playwright) against the live server: customer
service opens, receives, inspects and refunds a return in the admin and gives a goodwill
refund; a store associate receives a return at the counter on a phone. Screenshots of each
step go to test-artifacts/e2e/<test name>/NN-step.png (git-ignored) to look at."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from inventory.models import NodeConnector, StockLevel
from oms.events.models import Event
from returns.models import Refund, Return
from returns.policy import RequestedLine
from returns.services.requests import ReturnRequest, request_return
from tests.e2e.harness import CHROMIUM, Browser, launch
from tests.factories.inventory import NodeFactory, StoreFactory
from tests.factories.users import PASSWORD, superuser
from tests.returns.support import SYSTEM, ensure_default_policy, shipped_order
from tests.stores import scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def desktop(request, live_server, monkeypatch) -> Iterator[Browser]:
    yield from launch(
        request, live_server, monkeypatch, Browser, viewport={"width": 1440, "height": 900}
    )


@pytest.fixture
def phone(request, live_server, monkeypatch) -> Iterator[Browser]:
    yield from launch(
        request, live_server, monkeypatch, Browser, viewport={"width": 390, "height": 844}
    )


@pytest.fixture
def shipped(transactional_db):
    ensure_default_policy()
    dc = NodeFactory(
        code="dc-columbus",
        name="DC Columbus",
        connector=NodeConnector.API,
        can_accept_returns=True,
        address_line1="1 Warehouse Way",
    )
    store = StoreFactory(code="store-5th-ave", name="Fifth Avenue", connector=NodeConnector.API)
    order = shipped_order(dc, external_id="E2E-RET-1", lines=[("TEE-BLK-M", 2, "25.00")])
    return {"dc": dc, "store": store, "order": order}


def _dialog(browser: Browser, label: str, step: str, fill: dict[str, str] | None = None) -> None:
    page = browser.page
    page.get_by_role("link", name=label).or_(page.get_by_role("button", name=label)).first.click()
    dialog = page.locator("dialog, [role=dialog], #modal, form").last
    for name, value in (fill or {}).items():
        field_ = page.locator(f"[name={name}]").last
        if field_.evaluate("e => e.tagName") == "SELECT":
            field_.select_option(label=value)
        elif field_.get_attribute("type") == "checkbox":
            field_.check()
        else:
            field_.fill(value)
    browser.shot(step)
    dialog.locator("button[type=submit]").last.click()
    page.wait_for_load_state("load")


def test_customer_service_opens_receives_inspects_and_refunds_a_return(desktop, shipped):
    superuser("carla")
    page = desktop.page
    order = shipped["order"]

    desktop.open("/admin/login/?next=/admin/returns/return/add/")
    page.locator("input[name=username]").fill("carla")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/returns/return/add/$"))
    page.locator("input[name=order_number]").fill(order.number)
    page.locator("input[name=lines]").fill("1x1")
    page.locator("select[name=reason_code]").select_option("changed_mind")
    desktop.shot("open-return")
    page.locator("input[name=_save]").or_(page.get_by_role("button", name="Save")).first.click()
    page.wait_for_load_state("load")
    rma = Return.objects.get()
    assert rma.status == "authorized"

    desktop.open(f"/admin/returns/return/{rma.pk}/change/")
    expect(page.get_by_text(rma.number).first).to_be_visible()
    desktop.shot("authorized")
    _dialog(desktop, "Receive", "receive-dialog", {"line_1": "1"})
    expect(page.get_by_text(f"Return {rma.number} received").first).to_be_visible()
    _dialog(desktop, "Inspect", "inspect-dialog", {"line_1_restock": "1"})
    expect(page.get_by_text(f"Return {rma.number} inspected").first).to_be_visible()
    desktop.open(f"/admin/returns/return/{rma.pk}/change/")
    desktop.shot("refunded")

    rma.refresh_from_db()
    refund = Refund.objects.get(rma=rma)
    assert rma.status == "closed"
    assert (refund.status, str(refund.amount)) == ("succeeded", "25.0000")
    assert StockLevel.objects.get(node=shipped["dc"], product__sku="TEE-BLK-M").on_hand == 9

    # a goodwill refund on the same order, within the role's limit
    desktop.open("/admin/returns/refund/add/")
    page.locator("input[name=order_number]").fill(order.number)
    page.locator("input[name=appeasement]").fill("5.00")
    page.locator("select[name=reason]").select_option("late_delivery")
    page.locator("input[name=explanation]").fill("sorry for the wait")
    desktop.shot("goodwill")
    page.locator("input[name=_save]").or_(page.get_by_role("button", name="Save")).first.click()
    page.wait_for_load_state("load")
    desktop.open("/admin/returns/refund/")
    desktop.shot("refunds")
    assert Refund.objects.filter(kind="appeasement", status="succeeded").count() == 1


def test_a_store_associate_receives_a_return_at_the_counter(phone, shipped):
    store, order = shipped["store"], shipped["order"]
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, 2, "size_fit", "unopened")],
            return_node_code=store.code,
            authorize=True,
        ),
        actor=SYSTEM,
    )
    scenario.associate("sam", store)
    page = phone.page

    phone.open("/store/returns/")
    page.locator("input[name=username]").fill("sam")
    page.locator("input[name=password]").fill(scenario.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    phone.open("/store/returns/")
    expect(page.get_by_text(rma.number)).to_be_visible()
    phone.shot("returns")

    page.locator("input[name=number]").fill(rma.number.lower())
    page.get_by_role("button", name="Find return").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Count what came back")).to_be_visible()
    phone.shot("count")
    page.get_by_role("button", name="Receive return").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("Received 2 units")).to_be_visible()
    page.locator("input[name=line_1_restock]").fill("1")
    page.locator("input[name=line_1_damaged]").fill("1")
    phone.shot("inspect")
    # what the form sends, token included: a second tap sends the same again
    inspect_form = page.locator("form[action$='/inspect/']")
    action = inspect_form.get_attribute("action")
    sent = inspect_form.evaluate("(form) => Object.fromEntries(new FormData(form))")
    page.get_by_role("button", name="Save inspection").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("1 unit back on sale")).to_be_visible()
    phone.shot("done")

    # the double tap: the same form again lands on the return like the first, not a 409
    second = page.request.post(phone.base_url + action, form=sent, max_redirects=0)
    assert (second.status, second.headers["location"]) == (302, f"/store/returns/{rma.number}/")
    phone.open(second.headers["location"])
    expect(page.get_by_text("1 unit back on sale")).to_be_visible()
    phone.shot("double-tap")

    assert StockLevel.objects.get(node=store, product__sku="TEE-BLK-M").on_hand == 1
    assert Return.objects.get(pk=rma.pk).status == "closed"
    assert Event.objects.filter(stream=order.stream, type="return.inspected").count() == 1


def test_the_inspect_dialog_starts_from_the_damage_the_node_reported(desktop, shipped):
    # given: 2 units back at the DC, 1 of them reported damaged on arrival (as a 944's W13 does)
    from returns.services.receipt import receive_return
    from returns.services.requests import authorize_return

    superuser("carla")
    rma = request_return(
        order_id=shipped["order"].pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, 2, "size_fit", "unopened")], return_node_code="dc-columbus"
        ),
        actor=SYSTEM,
    )
    authorize_return(return_id=rma.pk, actor=SYSTEM)
    receive_return(
        return_id=rma.pk, node_id=shipped["dc"].pk, actor=SYSTEM, received={1: 2}, damaged={1: 1}
    )
    page = desktop.page
    change = f"/admin/returns/return/{rma.pk}/change/"
    desktop.open(f"/admin/login/?next={change}")
    page.locator("input[name=username]").fill("carla")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(change) + "$"))

    # when
    inspect = page.get_by_role("link", name="Inspect")
    inspect.or_(page.get_by_role("button", name="Inspect")).first.click()

    # then: the damage is said and pre-filled; the rest back on sale
    expect(page.get_by_text("1 reported damaged by the node").first).to_be_visible()
    expect(page.locator("[name=line_1_restock]").last).to_have_value("1")
    expect(page.locator("[name=line_1_damaged]").last).to_have_value("1")
    desktop.shot("inspect-dialog-reported-damage")
