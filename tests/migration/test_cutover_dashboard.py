"""The cutover dashboard's figures: KPIs of both systems before and after the switch date, and
the parity rows (webhook and connector error rates, inventory variance)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from integrations.models import (
    InboundMessage,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from inventory.models import InventoryReconciliation
from migration.dashboard import NO_LEGACY_LOG, kpi_table, parity_rows
from migration.kpis import connector_error_rate, kpi_periods, switch_date, webhook_error_rate
from migration.models import CutoverPlan
from migration.services.legacy_cancellation import apply_legacy_cancellation
from migration.services.shadow import LegacyAllocation, mirror_legacy_order
from oms.core.actors import Actor
from oms.events.models import Event
from tests.factories.orders import captured_order, order_input
from tests.factories.users import superuser
from tests.migration.cutover_support import network, set_mode

pytestmark = pytest.mark.django_db
NOV = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SWITCH = datetime(2026, 11, 4, 0, 0, tzinfo=UTC)
FEED = Actor.system("legacy feed")


def _mirror(channel, external_id, placed_at, allocations, quantity=2):
    data = order_input(external_id=external_id, skus=["TEE"], quantity=quantity)
    data = data.__class__(**{**data.__dict__, "legacy_mirror": True, "placed_at": placed_at})
    return mirror_legacy_order(
        channel=channel,
        data=data,
        allocations=[LegacyAllocation(n, "TEE", q) for n, q in allocations],
        actor=FEED,
    )


@pytest.fixture
def switched(web_channel, django_capture_on_commit_callbacks):
    """Before the switch (Nov 4): 4 mirrored orders (one split, one short, one cancelled by the
    legacy system). After: 2 mirrored orders (one split) and 2 oms orders, released."""
    network()
    alice, bob = superuser("alice"), superuser("bob")
    set_mode("web", "shadow", author=alice, approver=bob)
    web_channel.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        _mirror(web_channel, "B-1", NOV, [("dc-east", 2)])
        _mirror(web_channel, "B-2", NOV, [("dc-east", 1), ("dc-west", 1)])
        _mirror(web_channel, "B-3", NOV, [("dc-east", 1)])  # 1 of 2 placed: short
        gone = _mirror(web_channel, "B-4", NOV, [("dc-east", 2)])
        apply_legacy_cancellation(order_id=gone.pk, actor=FEED, source="api")
    set_mode("web", "canary", share="50", author=alice, approver=bob)
    CutoverPlan.objects.filter(channel=web_channel, mode="canary").update(approved_at=SWITCH)
    web_channel.refresh_from_db()
    later = SWITCH + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        _mirror(web_channel, "A-1", later, [("dc-east", 2)])
        _mirror(web_channel, "A-2", later, [("dc-east", 1), ("dc-west", 1)])
    set_mode("web", "oms", author=alice, approver=bob)
    CutoverPlan.objects.filter(channel=web_channel, mode="oms").update(
        approved_at=SWITCH + timedelta(days=1)
    )
    web_channel.refresh_from_db()
    owned = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            owned.append(
                captured_order(
                    web_channel,
                    external_id=f"O-{n}",
                    skus=["TEE"],
                    placed_at=later + timedelta(hours=n),
                )
            )
    return {"channel": web_channel, "owned": owned}


def test_kpis_before_and_after_the_switch_date(switched):
    channel = switched["channel"]
    assert switch_date(channel.pk) == SWITCH

    periods = kpi_periods(channel.pk)

    before, after = periods.legacy_before, periods.legacy_after
    assert (before.orders, before.cancellation_rate) == (4, 25.0)
    assert before.split_rate == 25.0  # B-2 of the 4 decisions
    assert before.backorder_rate == round(100 / 3, 1)  # B-3 of the 3 not cancelled
    assert before.order_to_ship_hours is None  # the legacy system ships mirrors itself
    assert (after.orders, after.split_rate, after.backorder_rate) == (2, 50.0, 0.0)
    assert periods.oms_before.orders == 0
    oms = periods.oms_after
    assert (oms.orders, oms.split_rate, oms.cancellation_rate, oms.backorder_rate) == (
        2,
        0.0,
        0.0,
        0.0,
    )
    table = kpi_table(periods)
    assert table["columns"] == ["legacy before", "legacy after", "oms before", "oms after"]
    assert table["rows"][0] == {"label": "Orders", "values": ["4", "2", "0", "2"]}
    backorders = next(r for r in table["rows"] if r["label"] == "Backorder rate")
    assert backorders["values"] == ["33.3%", "0.0%", "–", "0.0%"]


def test_parity_rows_error_rates_and_inventory_variance(switched):
    channel = switched["channel"]
    order = switched["owned"][0]
    assert FulfillmentOrder.objects.filter(order__channel=channel, released_at__isnull=False)
    released = FulfillmentOrder.objects.filter(order__channel=channel).count()
    assert connector_error_rate(channel.pk).calls == released
    assert connector_error_rate(channel.pk).errors == 0
    fo = FulfillmentOrder.objects.filter(order=order).first()
    InboundMessage.objects.create(
        source="node:dc-east",
        message_id="m-1",
        kind="fulfillment.ship",
        subject=fo.number,
        payload={},
        fingerprint="x",
        status="failed",
        received_at=timezone.now(),
    )
    rate = connector_error_rate(channel.pk)
    assert (rate.calls, rate.errors) == (released + 1, 1)

    subscription = WebhookSubscription.objects.create(
        name="t", url="https://example.com/hook", event_types=["*"]
    )
    event = Event.objects.filter(stream=order.stream).first()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=event, status="delivered", created_at=timezone.now()
    )
    for code in (500, None, 200, 204):
        WebhookAttempt.objects.create(
            delivery=delivery, at=timezone.now(), status_code=code, error="" if code else "timeout"
        )
    assert (webhook_error_rate(channel.pk).calls, webhook_error_rate(channel.pk).errors) == (4, 2)

    rows = {r["label"]: r for r in parity_rows(channel.pk)}
    assert rows["Webhook delivery error rate"] == {
        "label": "Webhook delivery error rate",
        "legacy": NO_LEGACY_LOG,
        "oms": "50.0% (2 of 4 attempts)",
    }
    connector = rows["Connector error rate (node calls and messages)"]
    assert connector["legacy"] == NO_LEGACY_LOG
    assert connector["oms"] == f"{100 / (released + 1):.1f}% (1 of {released + 1} calls)"
    assert rows["Inventory variance (latest reconciliation)"]["both"].startswith("– (no recon")

    InventoryReconciliation.objects.create(
        source="old", reconciled_at=NOV, pairs=10, within_tolerance=10
    )
    InventoryReconciliation.objects.create(
        source="dc counts",
        reconciled_at=NOV + timedelta(days=1),
        pairs=40,
        within_tolerance=38,
        variance_pairs=3,
        over_threshold=1,
        units_over=5,
        units_under=2,
        value={"USD": "70.00"},
    )
    variance = {r["label"]: r for r in parity_rows(channel.pk)}[
        "Inventory variance (latest reconciliation)"
    ]["both"]
    assert variance == (
        "3 of 40 node×SKU pairs differ (accuracy 95.0%) · oms +5 / −2 units · 1 over the "
        "threshold · 70.00 USD · dc counts, Nov 02 12:00"
    )
