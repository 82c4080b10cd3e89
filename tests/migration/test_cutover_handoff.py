"""Orders oms does not own go to the legacy system in its format, through the outbox: a local
HTTP endpoint stands in for the legacy system (retries with backoff, the dead letter)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from migration.mapping.reverse import NotReversible, render_orders_csv
from migration.mapping.schema import load_mapping
from migration.models import LegacyHandoff
from migration.services.handoff import legacy_record, revive_handoff, send_due_handoffs
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import ExceptionCase
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from tests.migration.conftest import MAPPINGS
from tests.migration.cutover_support import network, set_mode
from tests.webhooks.test_webhooks_sending import running_receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def legacy_channel(web_channel):
    network()
    set_mode("web", "legacy", author=superuser("alice"), approver=superuser("bob"))
    web_channel.refresh_from_db()  # capture reads the plan from the channel row it is given
    return web_channel


def _types(order):
    return list(
        Event.objects.filter(stream=order.stream).order_by("seq").values_list("type", flat=True)
    )


def test_the_order_is_posted_in_the_legacy_format(legacy_channel, settings):
    with running_receiver() as legacy:
        settings.OMS_LEGACY_HANDOFF_URL = legacy.url

        order = captured_order(legacy_channel, external_id="WEB-7", skus=["TEE", "MUG"])

        [(headers, body)] = legacy.received
    assert headers["content-type"] == "text/csv"
    assert headers["x-oms-order"] == order.number
    assert headers["idempotency-key"] == f"oms-handoff-{order.number}"
    assert body.decode().splitlines() == [
        "order_id,order_date,currency,status,tender,customer,email,ship_address,ship_city,"
        "ship_state,ship_zip,ship_country,store,shipping_cents,total_cents,carrier,tracking,"
        "shipped_date,sku,qty,unit_price_cents,discount_cents,tax_cents",
        "WEB-7,2026-11-01 07:00,USD,CREATED,,Ada Lovelace,ada@example.com,1 Main St,Columbus,"
        "OH,43215,US,,0,2000,,,,TEE,1,1000,0,0",
        "WEB-7,2026-11-01 07:00,USD,CREATED,,Ada Lovelace,ada@example.com,1 Main St,Columbus,"
        "OH,43215,US,,0,2000,,,,MUG,1,1000,0,0",
    ]
    order.refresh_from_db()
    assert (order.owner, order.status, order.handoff.status) == ("legacy", "created", "sent")
    assert _types(order) == ["order.created", "order.handoff_queued", "order.handoff_sent"]


def test_a_failing_legacy_endpoint_is_retried_with_backoff_until_it_takes_the_order(
    legacy_channel, settings
):
    replies = {1: 503, 2: 502}
    with running_receiver(lambda n: (replies.get(n, 200), {}, b"")) as legacy:
        settings.OMS_LEGACY_HANDOFF_URL = legacy.url
        order = captured_order(legacy_channel, external_id="WEB-8", skus=["TEE"])
        handoff = LegacyHandoff.objects.get(order=order)
        assert (handoff.status, handoff.attempts, handoff.last_error) == (
            "pending",
            1,
            "HTTP 503 from the legacy endpoint",
        )
        first_retry = handoff.next_attempt_at

        not_yet = send_due_handoffs(now=first_retry - timedelta(seconds=1))
        second = send_due_handoffs(now=first_retry)
        handoff.refresh_from_db()
        third = send_due_handoffs(now=handoff.next_attempt_at)

        assert legacy.count() == 3
    assert not_yet == {"sent": 0, "retrying": 0, "dead": 0}
    assert second == {"sent": 0, "retrying": 1, "dead": 0}
    assert third == {"sent": 1, "retrying": 0, "dead": 0}
    handoff.refresh_from_db()
    assert (handoff.status, handoff.attempts) == ("sent", 3)
    assert _types(order).count("order.handoff_sent") == 1


def test_after_the_last_attempt_the_handoff_is_dead_with_a_case_and_can_be_revived(
    legacy_channel, settings
):
    settings.OMS_LEGACY_HANDOFF_MAX_ATTEMPTS = 2
    with running_receiver(lambda n: (500, {}, b"boom")) as legacy:
        settings.OMS_LEGACY_HANDOFF_URL = legacy.url
        order = captured_order(legacy_channel, external_id="WEB-9", skus=["TEE"])
        handoff = LegacyHandoff.objects.get(order=order)

        result = send_due_handoffs(now=handoff.next_attempt_at)
        again = send_due_handoffs(now=timezone.now() + timedelta(days=1))

    assert (result, again) == (
        {"sent": 0, "retrying": 0, "dead": 1},
        {"sent": 0, "retrying": 0, "dead": 0},
    )
    handoff.refresh_from_db()
    assert (handoff.status, handoff.attempts) == ("dead", 2)
    assert _types(order)[-2:] == ["order.handoff_dead", "exception.raised"]
    case = ExceptionCase.objects.get(order=order)
    assert case.kind == "integration_failed"
    assert case.summary.startswith(f"Handing {order.number} to the legacy system failed 2 times")

    revived = revive_handoff(handoff_id=handoff.pk, actor=Actor.system("test"))
    assert (revived.status, revived.attempts) == ("pending", 0)


def test_a_mapping_that_cannot_be_run_backwards_is_refused(web_channel):
    order = captured_order(web_channel)

    with pytest.raises(NotReversible, match="only a grouped CSV orders mapping"):
        render_orders_csv(
            load_mapping(MAPPINGS / "shipstation_orders_xml.yaml"), [legacy_record(order)]
        )
