"""Working an exception from the queue to resolved, in a real browser (Chromium through
Playwright) against pytest-django's live server. Each step leaves a screenshot in
test-artifacts/e2e/<test name>/NN-step.png.

A node rejects a fulfillment order (a node_rejected case opens and the order is rerouted on
commit); an ops user opens the exception queue, opens the case, assigns it to themselves,
applies "Reroute" and sees it resolved.
"""

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import reject_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import NodeConnector
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from tests.e2e.harness import CHROMIUM, Browser, launch
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order
from tests.factories.users import PASSWORD, superuser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser(request, live_server, monkeypatch) -> Iterator[Browser]:
    yield from launch(
        request, live_server, monkeypatch, Browser, viewport={"width": 1400, "height": 900}
    )


@pytest.fixture
def rejected_case(transactional_db) -> ExceptionCase:
    tee = ProductFactory(sku="TEE-BLK-M", name="Black tee, M")
    east = NodeFactory(code="dc-east", name="DC East", priority=10, connector=NodeConnector.API)
    west = NodeFactory(
        code="dc-west",
        name="DC West",
        priority=20,
        connector=NodeConnector.API,
        latitude=Decimal("39.53"),
        longitude=Decimal("-119.75"),
    )
    stocked(east, tee, on_hand=5)
    stocked(west, tee, on_hand=5)
    order = captured_order(external_id="E2E-1", skus=["TEE-BLK-M"], quantity=2)
    orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order, node=east)
    reject_fulfillment(fulfillment_id=fo.pk, reason="flooded aisle", actor=Actor.system("dc-east"))
    return ExceptionCase.objects.get(kind="node_rejected")


def _run_dialog_action(browser: Browser, label: str, step: str, menu: str = "") -> None:
    """Click the page action `label` (inside the `menu` dropdown when given), then confirm in
    its dialog."""
    page = browser.page
    if menu:
        page.locator("a", has_text=menu).first.click()
    page.get_by_role("link", name=label).or_(page.get_by_role("button", name=label)).first.click()
    dialog_submit = page.locator("dialog, [role=dialog], #modal, form").get_by_role(
        "button", name=re.compile(label, re.IGNORECASE)
    )
    expect(dialog_submit.last).to_be_visible()
    browser.shot(step)
    dialog_submit.last.click()
    page.wait_for_load_state("load")


def test_ops_user_works_a_node_rejection_from_queue_to_resolved(browser, rejected_case):
    superuser("olga")
    page = browser.page

    browser.open("/admin/login/?next=/admin/ops/exceptioncase/")
    page.locator("input[name=username]").fill("olga")
    page.locator("input[name=password]").fill(PASSWORD)
    browser.shot("login")
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/ops/exceptioncase/$"))
    row = page.locator("tr", has_text=rejected_case.subject_label)
    expect(row).to_contain_text("Node rejected")
    expect(row).to_contain_text("Open")
    browser.shot("queue")

    row.get_by_role("link", name=str(rejected_case.pk), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/ops/exceptioncase/{rejected_case.pk}/change/"))
    expect(page.get_by_text("flooded aisle").first).to_be_visible()
    browser.shot("case")

    _run_dialog_action(browser, "Assign to me", "assign-dialog")
    expect(page.get_by_text("Assign to me: case").first).to_be_visible()
    expect(page.get_by_text("In progress").first).to_be_visible()
    browser.shot("assigned")

    _run_dialog_action(browser, "Reroute", "reroute-dialog", menu="Remedies")
    expect(page.get_by_text("Reroute: case").first).to_be_visible()
    expect(page.get_by_text("Resolved").first).to_be_visible()
    browser.shot("resolved")

    case = ExceptionCase.objects.get(pk=rejected_case.pk)
    assert case.status == CaseStatus.RESOLVED
    assert (case.assignee.username, case.resolution) == ("olga", "reroute")
    touch = Event.objects.get(stream=case.stream, type="order.manual_touch")
    assert (touch.payload["remedy"], touch.actor_label) == ("reroute", "olga")
    assert list(
        FulfillmentOrder.objects.filter(order_id=case.order_id)
        .order_by("id")
        .values_list("node__code", "status")
    ) == [("dc-east", "rejected"), ("dc-west", "released")]

    browser.open(f"/admin/orders/order/{case.order_id}/change/")
    expect(page.locator("#order-timeline")).to_contain_text("Node rejected")
    expect(page.locator("#order-timeline")).to_contain_text("order.manual_touch")
    browser.shot("order-timeline")
