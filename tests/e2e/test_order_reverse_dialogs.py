"""Customer service cancels and changes an order on the order page, in Chromium: a partial cancel
of units at a node (asked back from it), a change of notes and service level refused after
release and the notes saved, then the whole order cancelled. Screenshots (1440x900) in
test-artifacts/e2e/<test name>/."""

import re

import pytest
from django.db import transaction
from playwright.sync_api import expect

from fulfillment.models import FulfillmentOrder, NodeRequest
from fulfillment.services.feedback import accept_fulfillment
from fulfillment.services.fulfillment_orders import create_fulfillment_orders, release_fulfillment
from fulfillment.services.routing import route_order
from oms.core.actors import Actor
from orders.models import Order
from tests.e2e.harness import CHROMIUM, screenshot
from tests.e2e.test_exception_console import Browser, browser  # noqa: F401
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import PASSWORD, superuser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]

SYSTEM = Actor.system("e2e")


def _accepted_at_node() -> Order:
    dc = NodeFactory(code="dc-east", name="Columbus DC", connector="api")
    stocked(dc, ProductFactory(sku="TEE-BLK-M", name="Black tee, M"), on_hand=10)
    order = captured_order(
        channel=ChannelFactory(code="web"), external_id="E2E-CANCEL", skus=["TEE-BLK-M"], quantity=3
    )
    with transaction.atomic():
        route_order(order_id=order.pk, actor=SYSTEM, trigger="capture")
        create_fulfillment_orders(order=order, actor=SYSTEM)
    fo = FulfillmentOrder.objects.get(order=order)
    release_fulfillment(fulfillment_id=fo.pk)
    accept_fulfillment(fulfillment_id=fo.pk, actor=SYSTEM)
    return order


def _shot(b: Browser, step: str) -> None:
    """The 1440x900 viewport as a person sees it (the page is long: timeline, routing)."""
    path = b.shots / f"{len(b.taken) + 1:02d}-{step}.png"
    screenshot(b.page, path)
    b.taken.append(path)


MENUS = {"Cancel units": "Cancel", "Cancel order": "Cancel", "Change order": "Change"}


def _open_dialog(b: Browser, label: str) -> None:
    """Open the action from its menu in the order page's action bar."""
    b.page.locator("a:not([href])", has_text=MENUS[label]).first.click()
    b.page.get_by_role("link", name=label).first.click()
    expect(b.page.locator("#dialog-form")).to_be_visible()


def _submit(b: Browser, label: str) -> None:
    b.page.locator("#modal-content").get_by_role("button", name=label).click()


def test_customer_service_cancels_units_changes_and_cancels_the_order(browser):  # noqa: F811
    order = _accepted_at_node()
    superuser("carla")
    page = browser.page
    page.set_viewport_size({"width": 1440, "height": 900})
    change = f"/admin/orders/order/{order.pk}/change/"
    browser.open(f"/admin/login/?next={change}")
    page.locator("input[name=username]").fill("carla")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(change) + "$"))

    # one of three units, at the node: asked back
    _open_dialog(browser, "Cancel units")
    page.locator("input[name=quantity]").fill("1")
    page.locator("input[name=reason]").fill("customer wants two")
    _shot(browser, "cancel-units-dialog")
    _submit(browser, "Cancel units")
    expect(
        page.get_by_text(re.compile(r"1 unit asked back from dc-east \(request #\d+\); the node"))
    ).to_be_visible()
    _shot(browser, "cancel-units-requested")

    # after release the service level is refused in the dialog's message; notes save
    _open_dialog(browser, "Change order")
    page.locator("select[name=service_level]").select_option("express")
    page.locator("input[name=reason]").fill("customer asked for express")
    _shot(browser, "change-order-dialog")
    _submit(browser, "Save changes")
    expect(page.get_by_text("its service level can no longer change")).to_be_visible()
    _shot(browser, "change-order-refused")
    _open_dialog(browser, "Change order")
    page.locator("select[name=service_level]").select_option("standard")
    page.locator("textarea[name=internal_notes]").fill("Called twice about delivery.")
    page.locator("input[name=reason]").fill("call notes")
    _submit(browser, "Save changes")
    expect(page.get_by_text(f"{order.number}: changed internal notes.")).to_be_visible()
    _shot(browser, "change-order-notes-saved")

    # the whole order: the other two units are asked back too
    _open_dialog(browser, "Cancel order")
    page.locator("input[name=reason]").fill("customer cancelled by phone")
    _shot(browser, "cancel-order-dialog")
    _submit(browser, "Cancel the order")
    expect(page.get_by_text("2 units asked back from dc-east")).to_be_visible()
    _shot(browser, "cancel-order-requested")

    order.refresh_from_db()
    assert order.internal_notes == "Called twice about delivery."
    assert [r.units for r in NodeRequest.objects.order_by("id")] == [1, 2]
    assert [r.requested_by for r in NodeRequest.objects.order_by("id")] == ["carla", "carla"]
