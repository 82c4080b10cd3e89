"""The Content Security Policy in Chromium: the admin index (the KPI dashboard), the order list
and an order's page, a store screen's queue and a fulfillment page load with the CSP header on
and raise no `securitypolicyviolation` event and no CSP console message (docs/security.md)."""

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS
from tests.factories.users import PASSWORD, superuser
from tests.ops.kpis.planted import plant
from tests.stores import scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]

# Runs before any page script, outside the page's CSP (Playwright injects it).
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class _NoOrchestration:
    @staticmethod
    def delay(*args: object, **kwargs: object) -> None:
        return None


def watch(page: Page) -> list[str]:
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return console


def visit(page: Page, url: str, console: list[str]) -> list[str]:
    response = page.goto(url)
    assert response is not None
    policy = response.headers.get("content-security-policy") or ""
    assert "script-src 'self'" in policy
    if "/admin/" not in url:
        assert "unsafe" not in policy  # the strict policy: no inline, no eval
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # charts and Alpine run after load
    return [*console, *page.evaluate("window.__cspViolations")]


def test_admin_dashboard_and_order_pages_raise_no_csp_violation(live_server, monkeypatch):
    monkeypatch.setattr("fulfillment.handlers.orchestrate_order_task", _NoOrchestration)
    plant()
    superuser("csp-admin")
    from orders.models import Order

    order = Order.objects.order_by("pk").first()
    assert order is not None

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        console = watch(page)
        try:
            assert visit(page, f"{live_server.url}/admin/login/?next=/admin/", console) == []
            page.fill("input[name=username]", "csp-admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#ops-dashboard")).to_be_visible()
            expect(page.locator("canvas.chart").first).to_be_visible()
            page.wait_for_timeout(300)
            assert [*console, *page.evaluate("window.__cspViolations")] == []

            assert visit(page, f"{live_server.url}/admin/orders/order/", console) == []
            found = visit(page, f"{live_server.url}/admin/orders/order/{order.pk}/change/", console)
            assert found == []
            expect(page.get_by_text(order.number).first).to_be_visible()
        finally:
            browser.close()


def test_store_screens_raise_no_csp_violation(live_server):
    nodes = scenario.network()
    catalog = scenario.products()
    store = nodes["a"]
    scenario.stock(store, catalog["TEE"])
    scenario.associate("csp-alice", store)
    order = scenario.routed_order(
        external_id="CSP-1", skus=["TEE-BLK-M"], pickup_at=store, customer_name="Ada Lovelace"
    )
    fo = scenario.fulfillment_at(order, store)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        console = watch(page)
        try:
            assert visit(page, f"{live_server.url}/store/login/?next=/store/", console) == []
            page.locator("input[name=username]").fill("csp-alice")
            page.locator("input[name=password]").fill(scenario.PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__cspViolations") == []
            expect(page.locator("a.card-link", has_text=order.number)).to_be_visible()
            found = visit(page, f"{live_server.url}/store/fulfillments/{fo.pk}/", console)
            assert found == []
        finally:
            browser.close()
