"""The ops dashboard on the admin home in Chromium: a superuser logs in and sees the planted
figures (tests/ops/kpis/planted.py). Screenshot in test-artifacts/e2e/<test name>/."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.factories.users import PASSWORD, superuser
from tests.ops.kpis.planted import plant

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]


class _NoOrchestration:
    """Planted history: capture must not route the orders (that would add events)."""

    @staticmethod
    def delay(*args: object, **kwargs: object) -> None:
        return None


def test_superuser_sees_the_kpi_dashboard_with_planted_figures(live_server, monkeypatch):
    # given
    monkeypatch.setattr("fulfillment.handlers.orchestrate_order_task", _NoOrchestration)
    plant()
    superuser("ops-manager")
    shots = ARTIFACTS / "test_superuser_sees_the_kpi_dashboard_with_planted_figures"
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        try:
            # when
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("input[name=username]", "ops-manager")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")

            # then
            dashboard = page.locator("#ops-dashboard")
            expect(dashboard).to_be_visible()
            expect(page.get_by_role("heading", name="Operations dashboard")).to_be_visible()
            orders = dashboard.locator("[data-kpi=orders-captured]")
            expect(orders.locator(".kpi-value")).to_have_text("2")  # today: C and D
            expect(orders).to_contain_text("14 days: 4")
            expect(dashboard.locator("[data-kpi=on-time-ship-rate]")).to_contain_text("50.0%")
            expect(dashboard.locator("[data-kpi=order-ship-p50-p90]")).to_contain_text(
                "10.0 h / 11.6 h"
            )
            expect(dashboard.locator("[data-kpi=split-shipments]")).to_contain_text("33.3%")
            expect(dashboard.locator("[data-kpi=cancellation-rate]")).to_contain_text("25.0%")
            expect(dashboard.locator("[data-kpi=backorder-rate]")).to_contain_text("25.0%")
            expect(dashboard.locator("[data-kpi=manual-touches-100-orders]")).to_contain_text(
                "25.0"
            )
            web = page.locator("#kpi-channels tr[data-channel=web]")
            expect(web).to_contain_text("3")
            expect(web).to_contain_text("33.3%")
            # returns by channel: the planted orders, no returns yet
            returns_web = page.locator("#kpi-return-channels tr[data-return-channel=web]")
            expect(returns_web.locator("td")).to_have_text(["web", "3", "0", "0.0%", "0", "–"])
            expect(
                page.locator("#kpi-return-channels tr[data-return-channel='All channels']")
            ).to_be_visible()
            expect(page.locator("#kpi-feeds")).to_contain_text("never reported")
            expect(page.locator("#kpi-feeds")).to_contain_text("dc-stale")
            expect(page.locator("canvas.chart").first).to_be_visible()
            page.wait_for_timeout(300)  # charts draw after load
            screenshot(page, shots / "01-dashboard.png", full_page=True)
            page.locator("#kpi-return-channels").scroll_into_view_if_needed()
            screenshot(page, shots / "02-returns-by-channel.png")
        finally:
            browser.close()
