"""The webhook replay dialogs in a real browser (Chromium through Playwright, htmx as shipped):
a refused input comes back inside the open dialog, a good one replays and lands on the new
deliveries. Screenshots in test-artifacts/e2e/<test name>/. Replayed deliveries go to a local
receiver on 127.0.0.1 only.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import DeliveryReason, DeliveryStatus, WebhookDelivery
from oms.events.models import Event
from tests.e2e.harness import CHROMIUM
from tests.e2e.test_exception_console import Browser, browser  # noqa: F401
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import PASSWORD, superuser
from tests.webhooks.test_webhooks_sending import running_receiver
from webhooks.subscriptions import create_subscription

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]


def _open_dialog(b: Browser, label: str) -> None:
    b.page.get_by_role("link", name=label).first.click()
    expect(b.page.locator("#dialog-form")).to_be_visible()


def _submit(b: Browser) -> None:
    b.page.locator("#modal-content").get_by_role("button", name="Replay").click()


def test_replay_dialogs_refuse_in_place_then_replay(browser, settings):  # noqa: F811
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True
    order = captured_order(channel=ChannelFactory(code="web"), external_id="E2E-WH")
    superuser("olga")
    page = browser.page
    with running_receiver() as receiver:
        sub = create_subscription(name="erp", url=receiver.url, event_types=["order.*"])
        change = f"/admin/integrations/webhooksubscription/{sub.pk}/change/"

        browser.open(f"/admin/login/?next={change}")
        page.locator("input[name=username]").fill("olga")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        expect(page).to_have_url(re.compile(re.escape(change) + "$"))

        _open_dialog(browser, "Replay from…")
        future = timezone.now() + timedelta(days=2)
        page.locator("input[name=since]").fill(future.strftime("%Y-%m-%d %H:%M"))
        _submit(browser)
        expect(page.locator("#dialog-form")).to_contain_text("is in the future")
        browser.shot("future-refused-in-dialog")
        page.keyboard.press("Escape")

        browser.open(change)
        _open_dialog(browser, "Replay one order's stream")
        page.locator("input[name=order_number]").fill("OMS-NOPE-NOPE")
        _submit(browser)
        expect(page.locator("#dialog-form")).to_contain_text("No order 'OMS-NOPE-NOPE'.")
        browser.shot("unknown-order-refused-in-dialog")
        assert not WebhookDelivery.objects.exists()

        # capture, orchestration (on commit): order.created, order.backordered, ...
        events = Event.objects.filter(stream=order.stream, type__startswith="order.").count()
        assert events >= 2
        page.locator("input[name=order_number]").fill(order.number.lower())
        _submit(browser)
        expect(page).to_have_url(re.compile(r"/admin/integrations/webhookdelivery/\?"))
        expect(page.get_by_text(f"erp: replay queued, {events} new deliveries.")).to_be_visible()
        browser.shot("replayed")
        replays = WebhookDelivery.objects.filter(subscription=sub, reason=DeliveryReason.REPLAY)
        assert replays.count() == events
        for delivery in replays:
            expect(page.get_by_text(delivery.webhook_id)).to_be_visible()

        # the replays were sent on commit (Celery runs inline here) to the local receiver
        assert receiver.count() == events
    assert {d.status for d in replays} == {DeliveryStatus.DELIVERED}
    assert {h["webhook-id"] for h, _ in receiver.received} == {d.webhook_id for d in replays}
