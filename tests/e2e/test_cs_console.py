"""Customer service, ops and finance in the console, in a real browser (Chromium through
Playwright, 1440×900, one user per role, the staff groups of the migrations). Each job is one
test and leaves its screenshots in test-artifacts/e2e/<test name>/NN-step.png.

- customer service finds an order by its tracking number and reads its story on one screen:
  hold, fulfillments, tracking and money visible without scrolling;
- customer service places and releases a hold, and cancels a line, each through its dialog;
- ops works a case and is offered only the remedies that fit it;
- finance exports a month of payments as XLSX and as CSV.
"""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import accept_fulfillment, pack_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import Package, ship_fulfillment
from oms.core.actors import Actor
from ops.models import CaseStatus
from ops.services.cases import raise_exception_case
from orders.models import Hold, HoldKind, HoldStatus, LineStatus
from orders.services.holds import place_hold
from tests.e2e import harness
from tests.e2e.harness import CHROMIUM
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import PASSWORD, staff_user

NODE = Actor.system("dc-east")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]

# The data migrations that make the staff groups and grant the permissions these jobs use:
# transactional tests flush the database, so they are replayed (in migration order) before each
# test here. (Grants of models a later migration removed cannot be replayed on today's models.)
GROUP_MIGRATIONS = [
    ("orders", "0002_groups"),
    ("fulfillment", "0002_routing_permissions"),
    ("ops", "0002_default_queue_and_permissions"),
    ("stores", "0003_store_associates_leave_the_admin"),
    ("ops", "0007_console_search_and_fulfillment_views"),
    ("ops", "0010_finance_permissions"),
    ("ops", "0011_finance_scope"),
    ("erp", "0002_permissions"),
]


@pytest.fixture(autouse=True)
def staff_groups(transactional_db):
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    with connection.schema_editor() as editor:
        for key in GROUP_MIGRATIONS:
            for operation in loader.get_migration(*key).operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, editor)


@dataclass
class Browser(harness.Browser):
    """The console at 1440x900: a shot is the viewport, as a person sees it, unless asked."""

    full_page: bool = False

    def login(self, username: str, next_path: str) -> None:
        self.open(f"/admin/login/?next={next_path}")
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(PASSWORD)
        self.page.locator("input[name=password]").press("Enter")
        self.page.wait_for_load_state("load")

    def dialog(self, action: str, confirm: str, step: str, *, menu: str = "", **fields: str):
        """Open a page action's dialog (from its dropdown `menu` when given), fill it, shoot
        it, confirm."""
        page = self.page
        if menu:
            page.locator("a", has_text=menu).first.click()
        page.locator("a", has_text=action).first.click()
        dialog = page.locator("#modal-content")
        submit = dialog.get_by_role("button", name=re.compile(confirm, re.IGNORECASE))
        expect(submit).to_be_visible()
        for name, value in fields.items():
            control = dialog.locator(f"[name={name}]")
            if control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(label=value)
            else:
                control.fill(value)
        self.shot(step)
        submit.click()
        page.wait_for_load_state("load")


@pytest.fixture
def browser(request, live_server, monkeypatch) -> Iterator[Browser]:
    yield from harness.launch(
        request,
        live_server,
        monkeypatch,
        Browser,
        viewport={"width": 1440, "height": 900},
        accept_downloads=True,
    )


@pytest.fixture
def shop(transactional_db, django_capture_on_commit_callbacks):
    """dc-east (TEE, MUG) and dc-west (CUP); RARE is stocked nowhere."""
    east = NodeFactory(code="dc-east", name="Columbus DC", priority=10)
    west = NodeFactory(code="dc-west", name="Reno DC", priority=20)
    products = {sku: ProductFactory(sku=sku) for sku in ("TEE", "MUG", "CUP", "RARE")}
    stocked(east, products["TEE"], on_hand=50)
    stocked(east, products["MUG"], on_hand=50)
    stocked(west, products["CUP"], on_hand=50)
    return {"east": east, "west": west, "channel": ChannelFactory(code="web", name="Web shop")}


def _route(order, capture) -> None:
    with capture(execute=True):
        orchestrate_order(order_id=order.pk)


def _ship(fo: FulfillmentOrder, tracking: str, capture) -> None:
    with capture(execute=True):
        accept_fulfillment(fulfillment_id=fo.pk, actor=NODE)
        pack_fulfillment(fulfillment_id=fo.pk, actor=NODE)
        ship_fulfillment(
            fulfillment_id=fo.pk,
            packages=[Package(carrier="UPS", service="Ground", tracking_number=tracking)],
            actor=NODE,
        )


def test_customer_service_finds_an_order_by_tracking_and_reads_its_story(
    browser, shop, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = captured_order(
        channel=shop["channel"],
        external_id="E2E-STORY",
        skus=["TEE", "CUP"],
        unit_price="24.50",
        customer_phone="+1 614 555 0199",
    )
    _route(order, capture)
    _ship(FulfillmentOrder.objects.get(order=order, node=shop["east"]), "1ZE2E0000001", capture)
    place_hold(order_id=order.pk, kind=HoldKind.FRAUD, reason="score 91", actor=NODE)
    staff_user("carla", "customer_service")
    page = browser.page

    browser.login("carla", "/admin/orders/order/")
    page.get_by_placeholder(re.compile("Order number")).fill("1ZE2E0000001")
    page.get_by_placeholder(re.compile("Order number")).press("Enter")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(order.number)
    browser.shot("found-by-tracking")
    row.get_by_role("link", name=order.number).click()

    # the story on one screen: no scrolling for the hold, the parcels, the tracking, the money
    expect(page.locator("[data-badge=hold]")).to_be_in_viewport()
    expect(page.locator("[data-alert=hold]")).to_contain_text("score 91")
    expect(page.locator("#order-fulfillments")).to_be_in_viewport()
    tracking = page.locator("[data-tracking='1ZE2E0000001'] a")
    expect(tracking).to_be_in_viewport()
    expect(tracking).to_have_attribute("href", "https://www.ups.com/track?tracknum=1ZE2E0000001")
    expect(page.locator("[data-grand-total]")).to_be_in_viewport()
    expect(page.locator("[data-grand-total]")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    expect(page.locator("[data-line='1'] [data-units=shipped]")).to_have_text("1")
    expect(page.locator("[data-line='2'] [data-units=allocated]")).to_have_text("1")
    expect(page.locator("#order-timeline")).to_contain_text("shipped from dc-east")
    browser.shot("order-story")
    page.locator("#order-timeline details summary").first.click()
    expect(page.locator("#order-timeline details pre").first).to_be_visible()
    browser.shot("raw-payload", full_page=True)
    assert page.evaluate("document.documentElement.scrollHeight") < 2 * 900


def test_customer_service_places_and_releases_a_hold(
    browser, shop, django_capture_on_commit_callbacks
):
    order = captured_order(channel=shop["channel"], external_id="E2E-HOLD", skus=["TEE"])
    _route(order, django_capture_on_commit_callbacks)
    staff_user("carla", "customer_service")
    page = browser.page
    browser.login("carla", f"/admin/orders/order/{order.pk}/change/")
    expect(page.locator("[data-badge=hold]")).to_have_count(0)
    expect(page.locator("a", has_text="Release hold")).to_have_count(0)  # nothing to release
    browser.shot("no-hold")

    browser.dialog(
        "Place manual hold", "Place hold", "hold-dialog", reason="Customer asked to wait"
    )
    expect(page.get_by_text(f"Order {order.number} is on manual hold.")).to_be_visible()
    expect(page.locator("[data-badge=hold]")).to_contain_text("Manual")
    expect(page.locator("[data-alert=hold]")).to_contain_text("Customer asked to wait")
    browser.shot("on-hold")

    browser.dialog("Release hold", "Release hold", "release-dialog", note="Called back, go")
    expect(page.get_by_text("hold on", exact=False).first).to_be_visible()
    expect(page.locator("[data-badge=hold]")).to_have_count(0)
    browser.shot("released")
    hold = Hold.objects.get(order=order)
    assert (hold.status, hold.reason, hold.release_note) == (
        HoldStatus.RELEASED,
        "Customer asked to wait",
        "Called back, go",
    )


def test_customer_service_cancels_a_line(browser, shop, django_capture_on_commit_callbacks):
    order = captured_order(channel=shop["channel"], external_id="E2E-CANCEL", skus=["TEE", "RARE"])
    _route(order, django_capture_on_commit_callbacks)
    rare = order.lines.get(sku="RARE")
    assert rare.status == LineStatus.BACKORDERED
    staff_user("carla", "customer_service")
    page = browser.page
    browser.login("carla", f"/admin/orders/order/{order.pk}/change/")
    expect(page.locator("[data-line='2'] [data-units=backordered]")).to_have_text("1")
    browser.shot("backordered")

    browser.dialog(
        "Cancel line",
        "Yes, cancel the line",
        "cancel-dialog",
        menu="Cancel",
        line="#2 RARE × 1 (Backordered)",
        reason="Discontinued, customer informed",
    )

    expect(page.get_by_text(f"Line 2 of {order.number} cancelled.")).to_be_visible()
    expect(page.locator("[data-line='2'] [data-units=cancelled]")).to_have_text("1")
    expect(page.locator("[data-line='2'] [data-units=backordered]")).to_have_text("0")
    browser.shot("cancelled")
    rare.refresh_from_db()
    assert rare.status == LineStatus.CANCELLED


def test_ops_works_a_case_with_only_the_fitting_remedies(
    browser, shop, django_capture_on_commit_callbacks
):
    order = captured_order(channel=shop["channel"], external_id="E2E-CASE", skus=["TEE", "RARE"])
    _route(order, django_capture_on_commit_callbacks)
    case = raise_exception_case(kind="backorder_aged", order=order, summary="RARE waits 5 days")
    staff_user("otto", "ops_admin")
    page = browser.page
    browser.login("otto", "/admin/ops/exceptioncase/")
    expect(page.locator("#result_list")).to_contain_text(order.number)
    browser.shot("open-cases")
    page.locator("#result_list a", has_text=str(case.pk)).first.click()

    # the whole case reads on one screen at 1440x900: a row's fields side by side (console.css)
    for label in ("Summary", "Occurrences", "Resolution note"):
        expect(page.get_by_text(label, exact=True).first).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollHeight") <= 900
    browser.shot("case-page")
    for always in ("Assign to me", "Resolve", "Dismiss"):
        expect(page.locator("a", has_text=always).first).to_be_in_viewport()
    page.locator("a", has_text="Remedies").first.click()
    menu = page.locator("nav a:visible")
    expect(menu.filter(has_text="Reroute")).to_have_count(1)
    expect(menu.filter(has_text="Cancel backordered lines")).to_have_count(1)
    for unfit in ("Mark lost", "Mark damaged", "Unlock pickup", "Re-process", "Release hold"):
        expect(page.locator("a", has_text=unfit)).to_have_count(0)
    browser.shot("fitting-remedies")

    browser.dialog(  # from the open Remedies menu
        "Cancel backordered lines", "Yes, cancel", "confirm-cancel", note="Supplier discontinued"
    )
    expect(page.get_by_text(f"case #{case.pk} done")).to_be_visible()
    browser.shot("resolved")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert order.lines.get(sku="RARE").status == LineStatus.CANCELLED


def test_finance_exports_a_month_of_payments_as_xlsx_and_csv(
    browser, shop, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.OMS_EXPORT_DIR = tmp_path / "exports"
    settings.OMS_ERP_ENDPOINT = f"file:{tmp_path / 'erp'}"  # the demo's kind of ERP: a file drop
    capture = django_capture_on_commit_callbacks
    numbers = []
    for n, price in enumerate(("19.99", "0.10", "1234.56")):
        order = captured_order(
            channel=shop["channel"], external_id=f"E2E-PAY-{n}", skus=["MUG"], unit_price=price
        )
        _route(order, capture)
        _ship(FulfillmentOrder.objects.get(order=order), f"1ZPAY{n:07d}", capture)
        numbers.append(order.number)
    staff_user("fiona", "finance")
    page = browser.page
    browser.login("fiona", "/admin/ops/financeexport/")
    browser.shot("finance-area")
    today = timezone.localdate()
    first = today.replace(day=1).isoformat()

    downloaded = {}
    for file_format in ("xlsx", "csv"):
        browser.open("/admin/ops/financeexport/add/")
        page.locator("select[name=kind]").select_option("payments")
        page.locator("select[name=file_format]").select_option(file_format)
        page.locator("input[name=date_from]").fill(first)
        page.locator("input[name=date_to]").fill(today.isoformat())
        browser.shot(f"ask-{file_format}")
        page.locator("button[name=_save]").click()
        expect(page.get_by_text("ready to download").first).to_be_visible()
        browser.shot(f"ready-{file_format}")
        with page.expect_download() as info:
            page.locator("a", has_text=f"Download {file_format.upper()}").first.click()
        target = tmp_path / f"payments.{file_format}"
        info.value.save_as(target)
        downloaded[file_format] = target

    sheet = load_workbook(downloaded["xlsx"]).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header[:8] == [
        "created_at",
        "order_number",
        "channel",
        "shipment_reference",
        "kind",
        "status",
        "currency",
        "amount",
    ]
    assert sorted(row[1] for row in rows if row[4] == "capture") == sorted(numbers)
    with downloaded["csv"].open(newline="") as handle:
        parsed = list(csv.DictReader(handle))
    assert sorted(r["order_number"] for r in parsed if r["kind"] == "capture") == sorted(numbers)
    assert sorted(row["amount"] for row in parsed)[0].count(".") == 1

    # the invoices the ERP got are one per shipment, for what the captures charged; finance's
    # menu is its area, the orders and the returns: no channels, no event log
    browser.open("/admin/erp/erpdocument/")
    for row in (r for r in parsed if r["kind"] == "capture"):
        invoice = page.locator("#result_list tr", has_text=f"INV-{row['shipment_reference']}")
        expect(invoice).to_contain_text(f"{row['amount']} USD")
        expect(invoice).to_contain_text("sent")
    expect(page.get_by_role("link", name="ERP documents", exact=True).first).to_be_visible()
    for hidden in ("Channels", "Events", "Channel connections", "Outbound calls"):
        expect(page.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    browser.shot("erp-documents")
