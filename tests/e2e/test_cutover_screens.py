"""The cutover in the admin, in Chromium: the dashboard (mode, share, agreement, charts, KPIs
against the legacy baseline) and the shadow diff (per day, per order, the CSV export).
Screenshots (1440×900) in test-artifacts/e2e/test_cutover_screens/."""

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from inventory.models import InventoryReconciliation
from migration.services.cutover import propose_plan
from migration.services.shadow import LegacyAllocation, mirror_legacy_order
from oms.core.actors import Actor
from orders.services.capture import AddressInput, LineInput, OrderInput
from tests.e2e.harness import screenshot
from tests.factories.orders import ChannelFactory
from tests.factories.users import PASSWORD, superuser
from tests.migration.cutover_support import network, set_mode

CHROMIUM = shutil.which("chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "e2e" / "test_cutover_screens"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def _shadow_week(channel, django_capture_on_commit_callbacks):
    """14 mirrored orders over a week; the legacy system sent every fourth from Reno."""
    for n in range(14):
        data = OrderInput(
            external_id=f"L-{n:02d}",
            placed_at=START + timedelta(days=n // 2),
            currency="USD",
            customer_name="Ann Lee",
            shipping_address=AddressInput(
                line1="12 Elm St", city="Columbus", region="OH", postal_code="43215", country="US"
            ),
            lines=[LineInput(sku="TEE", quantity=1, unit_price=Decimal("20.00"))],
            legacy_mirror=True,
        )
        node = "dc-west" if n % 4 == 3 else "dc-east"
        with django_capture_on_commit_callbacks(execute=True):
            mirror_legacy_order(
                channel=channel,
                data=data,
                allocations=[LegacyAllocation(node, "TEE", 1)],
                actor=Actor.system("e2e"),
            )


def test_cutover_dashboard_and_shadow_diff(live_server, django_capture_on_commit_callbacks):
    web = ChannelFactory(code="web", name="Web")
    alice, bob = superuser("alice"), superuser("bob")
    network()
    set_mode("web", "shadow", author=alice, approver=bob)
    web.refresh_from_db()  # capture reads the plan from the channel row it is given
    _shadow_week(web, django_capture_on_commit_callbacks)
    set_mode("web", "canary", share="10", author=alice, approver=bob)
    propose_plan(channel_code="web", mode="canary", share_percent="25", author=alice)
    InventoryReconciliation.objects.create(
        source="dc counts",
        reconciled_at=START + timedelta(days=7),
        pairs=40,
        within_tolerance=38,
        variance_pairs=2,
        units_over=3,
        units_under=1,
        value={"USD": "60.00"},
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.goto(f"{live_server.url}/admin/login/?next=/admin/migration/cutoverplan/")
            page.fill("input[name=username]", "bob")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.get_by_text("Cutover dashboard →")).to_be_visible()

            page.goto(f"{live_server.url}/admin/migration/cutoverplan/dashboard/")
            panel = page.locator("[data-channel=web]")
            expect(panel.get_by_text("pending v3: canary 25.00%")).to_be_visible()
            expect(panel.get_by_text("10.00%", exact=True)).to_be_visible()
            expect(panel.get_by_text("78.6%", exact=True)).to_be_visible()  # 11 of 14
            expect(panel.get_by_text("11 of 14 orders on the same node(s)")).to_be_visible()
            expect(panel.locator("canvas")).to_have_count(2)
            kpis = panel.locator("#kpis-web")
            expect(kpis.locator("thead th")).to_have_text(
                ["KPI", "legacy before", "legacy after", "oms before", "oms after"]
            )
            expect(kpis).to_contain_text("Backorder rate")
            parity = panel.locator("#parity-web")
            expect(parity).to_contain_text("Webhook delivery error rate")
            expect(parity).to_contain_text("n/a: the legacy import has no such log")
            expect(parity).to_contain_text("2 of 40 node×SKU pairs differ (accuracy 95.0%)")
            screenshot(page, SHOTS / "1-dashboard.png", full_page=True)

            page.get_by_text("Shadow diff →").first.click()
            expect(page.locator("#shadow-diff")).to_contain_text("11 of 14 orders agree (78.6%)")
            rows = page.locator("#shadow-orders tbody tr")
            expect(rows).to_have_count(14)
            expect(rows.nth(3)).to_contain_text("oms preferred dc-east")
            expect(page.locator("#shadow-diff")).to_contain_text(
                "estimated shipping cost per order legacy"
            )
            expect(page.locator("#shadow-days thead")).to_contain_text("est. cost per order")
            screenshot(page, SHOTS / "2-shadow-diff.png", full_page=True)

            with page.expect_download() as download:
                page.get_by_text("Export CSV ↓").click()
            csv_text = Path(download.value.path()).read_text()
        finally:
            browser.close()
    lines = csv_text.splitlines()
    assert lines[0].startswith("order,channel,day,agrees,oms nodes,legacy nodes")
    assert "oms est. cost,legacy est. cost,oms promise,legacy promise,reason" in lines[0]
    assert len(lines) == 15
    assert sum(",no," in line for line in lines) == 3
