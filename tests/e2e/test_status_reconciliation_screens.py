"""Status reconciliation screens (dual running): ops reads a comparison's differing orders
(order number, oms status, legacy status) and opens the case it raised."""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from migration.mapping.schema import load_mapping
from migration.services.reconciliation import reconcile_source
from migration.services.runs import run_import
from oms.core.actors import Actor
from orders.models import Order
from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.factories.orders import ChannelFactory
from tests.factories.users import PASSWORD, superuser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ARTIFACTS / "test_status_reconciliation_screens"
EXAMPLES = ROOT / "migration" / "examples"
MAPPINGS = ROOT / "migration" / "mappings"
ACTOR = Actor.system("e2e")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def test_a_comparison_lists_the_differing_order_and_its_case(live_server):
    ChannelFactory(code="web", name="Web")
    for name, example in [
        ("generic_nodes_csv", "nodes.csv"),
        ("generic_products_csv", "products.csv"),
        ("generic_stock_csv", "stock.csv"),
        ("generic_orders_csv", "orders.csv"),
    ]:
        run_import(
            mapping=load_mapping(MAPPINGS / f"{name}.yaml"),
            input_path=EXAMPLES / example,
            dry_run=False,
            actor=ACTOR,
        )
    result = reconcile_source(
        mapping_name="generic_order_status_csv",
        input_path=EXAMPLES / "order_statuses.csv",
        actor=ACTOR,
    )
    number = Order.objects.get(external_id="F-2001").number
    superuser("status-admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.goto(
                f"{live_server.url}/admin/login/?next=/admin/migration/statusreconciliation/"
                f"{result.reconciliation.pk}/change/"
            )
            page.fill("input[name=username]", "status-admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.get_by_text("6 orders compared; 5 match, 1 differ")).to_be_visible()
            expect(page.get_by_role("cell", name=number)).to_be_visible()
            expect(page.get_by_role("cell", name="SHIPPED")).to_be_visible()
            screenshot(page, SHOTS / "1-status-reconciliation.png")

            page.goto(f"{live_server.url}/admin/ops/exceptioncase/{result.cases_raised[0]}/change/")
            expect(page.get_by_text("in the legacy system").first).to_be_visible()
            screenshot(page, SHOTS / "2-case.png")
        finally:
            browser.close()
