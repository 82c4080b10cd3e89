"""Channel setup in the admin in a real browser (Chromium through Playwright): add a Shopify
channel (the generated webhook secret shown once), its page (secrets never shown again, the
webhook URL), test connection against a fake Shopify, the list with health, a refused order in
the inbound log. Screenshots in test-artifacts/e2e/<test name>/ (docs/channels.md uses them)."""

import json
import re

import pytest
from playwright.sync_api import expect

from channels.services.setup import create_channel
from tests.channels.fake_platform import FakePlatform, running
from tests.channels.platforms import SECRET, post
from tests.corpus import corpus
from tests.e2e.harness import CHROMIUM, screenshot
from tests.e2e.test_exception_console import Browser, browser  # noqa: F401
from tests.factories.users import PASSWORD, superuser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_setting_up_a_shopify_channel_in_the_admin(browser, settings, client):  # noqa: F811
    settings.OMS_CHANNELS_ALLOWED_HOSTS = ["127.0.0.1"]
    superuser("olga")
    page = browser.page
    page.set_viewport_size({"width": 1440, "height": 900})
    add = "/admin/channels/channelconnection/add/"
    browser.open(f"/admin/login/?next={add}")
    page.locator("input[name=username]").fill("olga")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(add) + "$"))

    with running(FakePlatform()) as fake:
        fake.answer("GET", "/admin/api/2026-07/shop.json", {"shop": {"id": 1, "name": "Demo"}})
        page.locator("input[name=code]").fill("shopify-us")
        page.locator("input[name=name]").fill("Shopify US")
        page.locator("select[name=platform]").select_option("shopify")
        page.locator("input[name=base_url]").fill(f"{fake.base_url}/admin/api/2026-07")
        page.locator("input[name=new_credentials]").fill("shpat_example_token")
        page.locator("textarea[name=settings]").fill('{"sku_map": {"IPOD2008GREEN": "TEE-GRN-M"}}')
        browser.shot("add-shopify-channel")
        page.locator("input[name=new_credentials]").press("Enter")
        expect(page.get_by_text("shown once, copy it into the platform now")).to_be_visible()
        browser.shot("secret-shown-once")

        page.get_by_role("link", name=re.compile("shopify-us")).first.click()
        expect(page.get_by_text("/webhooks/shopify/shopify-us/")).to_be_visible()
        expect(page.get_by_text("never shown again")).to_be_visible()
        assert "shpat_example_token" not in page.content()
        browser.shot("channel-page")

        browser.open("/admin/channels/channelconnection/")
        page.locator("input.action-select").first.check()
        page.locator("select[name=action]").select_option("test_connection_action")
        page.get_by_role("button", name=re.compile("Run")).click()
        expect(page.get_by_text("answered 200")).to_be_visible()
        browser.shot("test-connection")

    # a Shopify order with a SKU the catalogue does not know: refused, kept, a case
    create_channel(code="shopify-demo", platform="shopify", webhook_secret=SECRET)
    order = json.loads(corpus("shopify/api_ruby__order.json").read_text())["order"]
    post(client, "shopify", "shopify-demo", order)
    browser.open("/admin/integrations/inboundmessage/")
    expect(page.get_by_text("unknown_sku").first).to_be_visible()
    browser.shot("refused-order-in-the-inbound-log")
    browser.open("/admin/channels/channelconnection/")
    browser.shot("channels-with-health")
    browser.open("/admin/")
    panel = page.locator("#kpi-sales-channels")
    expect(panel).to_contain_text("shopify-demo")
    panel.scroll_into_view_if_needed()
    screenshot(page, browser.shots / "07-dashboard-sales-channels.png")
