"""Customer service and the order's money, in Chromium at 1440x900, as a user of the
customer_service group (the staff groups replayed from their migrations, as in
tests/e2e/test_cs_console.py): on the order page, cancel the units of a backordered line through
the "Cancel" menu (the shipped rest is captured); read the "Payments & refunds" panel and the
"Returns" panel with a return on its way back; open the return and refund it from its own
page (refund before receipt, as its policy allows): declined by the provider first, then
refunded; back on the order, the refund is in the payments panel.

Screenshots in test-artifacts/e2e/<test name>/NN-step.png, and a copy in the directory named by
OMS_E2E_SHOTS when it is set.
"""

import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from fulfillment.models import FulfillmentOrder
from fulfillment.services.labels import ship_with_carrier
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import NodeConnector
from ops.models import ExceptionCase
from orders.models import LineStatus, PaymentTransaction
from orders.payments import script_simulated_payment
from orders.services.capture import LineInput
from returns.models import Return
from returns.policy import RequestedLine, create_return_policy
from returns.services.requests import ReturnRequest, request_return
from tests.e2e.harness import CHROMIUM
from tests.e2e.test_cs_console import (  # noqa: F401 - the fixtures this test uses
    GROUP_MIGRATIONS,
    Browser,
    browser,
)
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import staff_user
from tests.returns.support import SYSTEM, ensure_default_policy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]

# The groups of test_cs_console, and the returns permissions of customer service.
MIGRATIONS = [*GROUP_MIGRATIONS, ("returns", "0002_default_policy_and_permissions")]


@pytest.fixture(autouse=True)
def staff_groups(transactional_db):
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    with connection.schema_editor() as editor:
        for key in MIGRATIONS:
            for operation in loader.get_migration(*key).operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, editor)
    ensure_default_policy()


@pytest.fixture
def order_with_a_return(django_capture_on_commit_callbacks):
    """Two tees at 25.00 shipped; three mugs backordered (stocked nowhere), so nothing is
    captured yet (capture waits for every live line); one tee on its way back, on a policy
    that refunds before receipt; the provider will decline the first refund."""
    web = ChannelFactory(code="web", name="Web shop")
    create_return_policy(channel=web, terms={"refund_before_receipt": True}, actor=SYSTEM)
    dc = NodeFactory(
        code="dc-columbus",
        name="DC Columbus",
        connector=NodeConnector.API,
        can_accept_returns=True,
        address_line1="1 Warehouse Way",
    )
    ProductFactory(sku="MUG-RARE", name="Rare mug")
    stocked(dc, ProductFactory(sku="TEE-BLK-M", name="Black tee, M"), on_hand=10)
    order = captured_order(
        channel=web,
        external_id="E2E-MONEY",
        lines=[
            LineInput(sku="TEE-BLK-M", quantity=2, unit_price=Decimal("25.00")),
            LineInput(sku="MUG-RARE", quantity=3, unit_price=Decimal("12.50")),
        ],
        payment_status="authorized",
        payment_reference="auth_1",
    )
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):  # the release runs on commit
        orchestrate_order(order_id=order.pk)
    with capture(execute=True):
        for fo in FulfillmentOrder.objects.filter(order=order):
            ship_with_carrier(fulfillment_id=fo.pk, actor=SYSTEM)
    assert order.lines.get(sku="MUG-RARE").status == LineStatus.BACKORDERED
    assert not PaymentTransaction.objects.filter(order=order, kind="capture").exists()
    request_return(
        order_id=order.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 1, "size_fit", "unopened")], authorize=True),
        actor=SYSTEM,
    )
    script_simulated_payment(order_number=order.number, kind="refund", outcome="decline")
    return order


def _copy_shots(shots: Browser) -> None:
    target = os.environ.get("OMS_E2E_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in shots.taken:
            shutil.copy(path, Path(target) / path.name)


def test_customer_service_cancels_units_reads_the_money_and_refunds_a_return(
    browser,  # noqa: F811
    order_with_a_return,
):
    order = order_with_a_return
    rma = Return.objects.get(order=order)
    staff_user("carla", "customer_service")
    page = browser.page
    change = f"/admin/orders/order/{order.pk}/change/"
    browser.login("carla", change)
    expect(page).to_have_url(re.compile(re.escape(change) + "$"))

    # cancel the three backordered mugs through the Cancel menu: every live line has shipped,
    # so the tees are captured
    page.locator("a", has_text="Cancel").first.click()
    browser.shot("cancel-menu")
    page.locator("a", has_text="Cancel units").first.click()
    dialog = page.locator("#modal-content")
    expect(dialog.get_by_role("button", name="Cancel units")).to_be_visible()
    line = dialog.locator("select[name=line]")
    mug_line = line.locator("option", has_text="MUG-RARE").get_attribute("value")
    line.select_option(value=mug_line)
    dialog.locator("input[name=quantity]").fill("3")
    dialog.locator("input[name=reason]").fill("customer no longer wants the mugs")
    browser.shot("cancel-units-dialog")
    dialog.get_by_role("button", name="Cancel units").click()
    expect(page.get_by_text(f"{order.number}: 3 units cancelled").first).to_be_visible()
    browser.shot("cancel-units-done")
    # every live line has shipped now: the cancel schedules the capture of what shipped on
    # commit (no sweeper, no PAYMENT_GRACE wait)
    browser.open(change)

    # the money and the return, on the order page
    payments = page.locator("#panel-payments")
    expect(payments).to_be_visible()
    payments.scroll_into_view_if_needed()
    browser.shot("payments-and-returns-panels")
    expect(page.locator("[data-captured]")).to_have_text("$50.00")
    expect(page.get_by_text(rma.number).first).to_be_visible()
    expect(page.locator("[data-cancelled-value]")).to_have_text("−$37.50")

    # refund the return from its own page
    page.get_by_role("link", name=rma.number).first.click()
    page.wait_for_load_state("load")
    browser.shot("return-page")
    page.locator("a", has_text=re.compile(r"Refund\s*$")).first.click()
    dialog = page.locator("#modal-content")
    dialog.locator("[name=confirm]").check()
    browser.shot("refund-dialog")
    dialog.get_by_role("button", name="Refund").click()
    page.wait_for_load_state("load")
    expect(
        page.get_by_text(
            "The provider declined the refund of 25.00 USD: The card issuer declined the payment."
        ).first
    ).to_be_visible()
    # the refunds listed on the return say what went wrong in words, never the raw code
    expect(page.locator("body")).not_to_contain_text("card_declined")
    browser.shot("refund-declined")
    declined_case = ExceptionCase.objects.get(order=order, kind="payment_failed")
    assert declined_case.status == "open"
    page.locator("a", has_text=re.compile(r"Refund\s*$")).first.click()
    dialog = page.locator("#modal-content")
    dialog.locator("[name=confirm]").check()
    dialog.get_by_role("button", name="Refund").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("Refund of 25.00 USD refunded.").first).to_be_visible()
    browser.shot("refunded")
    # the retry's success closed the case of the decline at once (no detector run)
    declined_case.refresh_from_db()
    assert (declined_case.status, declined_case.resolution_note) == (
        "resolved",
        "Refund retried and succeeded",
    )

    browser.open(change)
    expect(page.locator("[data-refunded]")).to_have_text("$25.00")
    rows = page.locator("[data-payment-row]")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Refund $25.00 · Succeeded · Return: Size or fit · ref ")
    expect(rows.nth(1)).to_contain_text("Refund $25.00 · Failed · Return: Size or fit · The ")
    expect(rows.nth(2)).to_contain_text(f"Capture $50.00 · Succeeded · shipment {order.number}-1")
    expect(page.locator("#panel-payments")).not_to_contain_text("return:size_fit")
    page.locator("[data-captured]").scroll_into_view_if_needed()
    browser.shot("order-after-refund")
    _copy_shots(browser)

    order.refresh_from_db()
    mug = order.lines.get(sku="MUG-RARE")
    assert (mug.quantity, mug.cancelled_quantity, mug.status) == (3, 3, LineStatus.CANCELLED)
    refunds = PaymentTransaction.objects.filter(order=order, kind="refund").order_by("id")
    assert [(t.status, t.amount) for t in refunds] == [
        ("failed", Decimal("25.0000")),
        ("succeeded", Decimal("25.0000")),
    ]
    assert PaymentTransaction.objects.get(order=order, kind="capture").amount == Decimal("50.00")
