"""Inventory reconciliation in the admin, in Chromium: a superuser runs a reconciliation source
("Reconcile now"), ops reads the variance-by-node chart, a run's variance report, the case it
opened and the accuracy card on the dashboard. Screenshots (1440×900) in
test-artifacts/e2e/test_reconciliation_screens/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from inventory.models import StockLevel
from migration.mapping.schema import load_mapping
from migration.models import ReconciliationSource
from migration.services.reconciliation import reconcile_inventory
from migration.services.runs import run_import
from oms.core.actors import Actor
from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.factories.users import PASSWORD, superuser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ARTIFACTS / "test_reconciliation_screens"
EXAMPLES = ROOT / "migration" / "examples"
MAPPINGS = ROOT / "migration" / "mappings"
ACTOR = Actor.system("e2e")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def load(name: str, example: str) -> None:
    run_import(
        mapping=load_mapping(MAPPINGS / f"{name}.yaml"),
        input_path=EXAMPLES / example,
        dry_run=False,
        actor=ACTOR,
    )


def counts(path: Path, drift: dict[tuple[str, str], int]) -> Path:
    rows = [
        (s.node.code, s.product.sku, s.on_hand + drift.get((s.node.code, s.product.sku), 0))
        for s in StockLevel.objects.select_related("node", "product").order_by("id")
    ]
    path.write_text("location,sku,qty,safety\n" + "".join(f"{n},{k},{q},0\n" for n, k, q in rows))
    return path


def test_reconcile_now_then_chart_report_case_and_kpi(live_server, tmp_path):
    load("generic_nodes_csv", "nodes.csv")
    load("generic_products_csv", "products.csv")
    load("generic_stock_csv", "stock.csv")
    earlier = counts(tmp_path / "earlier.csv", {("store-bos", "LAMP-LED"): 1})
    reconcile_inventory(mapping_name="generic_stock_csv", input_path=earlier, actor=ACTOR)
    source = ReconciliationSource.objects.create(
        name="legacy-counts",
        mapping_name="generic_stock_csv",
        input_path=str(counts(tmp_path / "now.csv", {("dc-east", "TENT-2P"): -3})),
    )
    superuser("recon-admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.goto(f"{live_server.url}/admin/login/?next=/admin/migration/reconciliationsource/")
            page.fill("input[name=username]", "recon-admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.locator(f"input[name=_selected_action][value='{source.pk}']").check()
            page.select_option("select[name=action]", "reconcile_now")
            page.click("button[name=index]")
            expect(page.get_by_text("1 over threshold; cases raised 1")).to_be_visible()
            screenshot(page, SHOTS / "1-reconcile-now.png")

            page.goto(f"{live_server.url}/admin/inventory/inventoryreconciliation/")
            expect(page.get_by_text("Variance by node, last 30 days")).to_be_visible()
            expect(page.locator("#variance-chart canvas")).to_be_visible()
            screenshot(page, SHOTS / "2-reconciliations-chart.png")

            row = page.locator("#result_list tbody tr").filter(has_text="legacy-counts")
            row.locator("a").first.click()
            expect(page.get_by_text("over threshold", exact=True)).to_be_visible()
            expect(page.get_by_role("cell", name="TENT-2P")).to_be_visible()
            screenshot(page, SHOTS / "3-variance-report.png", full_page=True)

            page.goto(f"{live_server.url}/admin/ops/exceptioncase/")
            expect(page.get_by_text("Inventory variance").first).to_be_visible()
            screenshot(page, SHOTS / "4-case.png")
            # the case page: the worst pairs as a table of rows, not the detector's JSON
            page.get_by_role("link", name="Inventory variance").first.click()
            expect(page.get_by_role("columnheader", name="SKU").first).to_be_visible()
            expect(page.get_by_role("cell", name="TENT-2P").first).to_be_visible()
            screenshot(page, SHOTS / "4b-case-page.png")

            page.goto(f"{live_server.url}/admin/")
            card = page.locator("[data-kpi=inventory-accuracy]")
            expect(card).to_contain_text("3 of 4 SKU×node in tolerance")
            card.scroll_into_view_if_needed()
            screenshot(page, SHOTS / "5-dashboard-accuracy.png")
        finally:
            browser.close()
