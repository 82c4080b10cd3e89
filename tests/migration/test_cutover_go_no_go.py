"""Go/no-go thresholds of a cutover, as versioned rules that raise cases: a planted low shadow
agreement opens one case about the channel, recovery closes it; dead legacy handoffs too."""

import socket
from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from inventory.models import InventoryReconciliation
from migration.models import LegacyHandoff
from migration.services.go_no_go import check_cutover_thresholds
from migration.services.handoff import revive_handoff, send_due_handoffs
from migration.services.shadow import LegacyAllocation, record_legacy_decision
from migration.tasks import check_cutover_thresholds_task
from oms.celery import app as celery_app
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from ops.rule_schema import threshold_errors
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    submit_exception_rule_set,
)
from orders.models import Order
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from tests.migration.cutover_support import network, set_mode

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)  # captured orders are placed on Nov 1


@pytest.fixture
def people(db):
    return {"alice": superuser("alice"), "bob": superuser("bob")}


def _thresholds(people, **thresholds):
    rule_set = create_exception_rule_set(
        name="cutover gates", rules=[], author=people["alice"], thresholds=thresholds
    )
    submit_exception_rule_set(rule_set_id=rule_set.pk, user=people["alice"])
    approve_exception_rule_set(rule_set_id=rule_set.pk, approver=people["bob"])


def _shadow_orders(channel, start, legacy_nodes):
    """One shadow order per legacy node: oms plans dc-east (next door) for each."""
    for n, node in enumerate(legacy_nodes, start=start):
        order = captured_order(channel, external_id=f"WEB-{n}", skus=["TEE"])
        record_legacy_decision(
            order_id=order.pk, allocations=[LegacyAllocation(node, "TEE", 1)], source="api"
        )


@pytest.fixture
def shadow_channel(web_channel, people, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.OMS_LEGACY_HANDOFF_DIR = tmp_path
    network()
    set_mode("web", "shadow", author=people["alice"], approver=people["bob"])
    web_channel.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        # planted: 5 of 10 agree with oms (dc-east), 5 went to Reno
        _shadow_orders(web_channel, 0, ["dc-east"] * 5 + ["dc-west"] * 5)
    return web_channel


def _types(case):
    return list(
        Event.objects.filter(stream=case.stream).order_by("seq").values_list("type", flat=True)
    )


def test_a_low_agreement_opens_one_case_and_recovery_closes_it(
    shadow_channel, people, django_capture_on_commit_callbacks
):
    # too few orders compared under the default minimum (20): no verdict yet
    early = check_cutover_thresholds(now=NOW)
    [verdict] = early.verdicts
    assert (verdict.compared, verdict.agreed, verdict.agreement) == (10, 5, 50.0)
    assert verdict.go
    assert not ExceptionCase.objects.exists()

    # the active exception rule set (approved by a second person) sets the gates
    _thresholds(people, cutover_min_agreement_percent=80, cutover_min_compared=10)
    first = check_cutover_thresholds(now=NOW)
    again = check_cutover_thresholds(now=NOW)

    case = ExceptionCase.objects.get()
    assert first.cases_raised == again.cases_raised == [case.pk]
    assert (case.kind, case.subject_type, case.subject_label, case.status) == (
        "cutover_no_go", "channel", "web", CaseStatus.OPEN,
    )  # fmt: skip
    assert case.occurrences == 2
    assert case.summary == (
        "web (shadow): no-go: shadow agreement 50.0% is below 80% (10 orders, last 7 days)"
    )
    assert case.details["breaches"] == [
        {"check": "agreement", "value": 50.0, "threshold": 80, "compared": 10, "days": 7}
    ]
    assert (case.details["mode"], case.details["plan_version"]) == ("shadow", 1)

    # recovery: 30 more orders where both systems agree → 35 of 40 = 87.5 %
    with django_capture_on_commit_callbacks(execute=True):
        _shadow_orders(shadow_channel, 10, ["dc-east"] * 30)
    recovered = check_cutover_thresholds(now=NOW)

    case.refresh_from_db()
    assert recovered.cases_raised == []
    assert recovered.cases_resolved == [case.pk]
    assert (case.status, case.resolution) == (CaseStatus.RESOLVED, "condition_cleared")
    assert case.resolution_note == (
        "web within the go/no-go thresholds: agreement 87.5% over 40 orders, 0 dead handoffs, "
        "webhook errors none made, connector errors none made"
    )
    assert _types(case) == ["exception.raised", "exception.resolved"]
    assert check_cutover_thresholds(now=NOW).cases_resolved == []  # idempotent


def test_the_agreement_window_leaves_old_orders_out(shadow_channel, people):
    _thresholds(people, cutover_min_agreement_percent=80, cutover_min_compared=10)
    late = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # Nov 1 is 8 days back
    [verdict] = check_cutover_thresholds(now=late).verdicts
    assert (verdict.compared, verdict.agreement, verdict.go) == (0, None, True)
    assert not ExceptionCase.objects.exists()


def test_a_channel_back_on_oms_owns_its_orders_and_the_case_closes(shadow_channel, people):
    _thresholds(people, cutover_min_agreement_percent=80, cutover_min_compared=10)
    [raised] = check_cutover_thresholds(now=NOW).cases_raised
    set_mode("web", "oms", author=people["alice"], approver=people["bob"])

    result = check_cutover_thresholds(now=NOW)

    assert result.cases_resolved == [raised]
    assert ExceptionCase.objects.get().resolution_note == (
        "web within the go/no-go thresholds: no order compared, 0 dead handoffs, "
        "webhook errors none made, connector errors none made"
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_dead_handoffs_open_the_channel_case_and_a_revival_closes_it(web_channel, people, settings):
    network()
    set_mode("web", "legacy", author=people["alice"], approver=people["bob"])
    web_channel.refresh_from_db()
    settings.OMS_LEGACY_HANDOFF_MAX_ATTEMPTS = 1
    settings.OMS_LEGACY_HANDOFF_URL = f"http://127.0.0.1:{_closed_port()}/orders"
    order = captured_order(web_channel, external_id="WEB-9", skus=["TEE"])
    handoff = LegacyHandoff.objects.get(order=order)
    assert send_due_handoffs(now=handoff.next_attempt_at)["dead"] == 1

    result = check_cutover_thresholds()

    case = ExceptionCase.objects.get(kind="cutover_no_go")
    assert result.cases_raised == [case.pk]
    assert case.summary == ("web (legacy): no-go: 1 dead legacy handoffs (at most 0 allowed)")
    # the order's own integration_failed case stays: it is about the order, not the channel
    assert ExceptionCase.objects.filter(kind="integration_failed", order=order).exists()

    revive_handoff(handoff_id=handoff.pk, actor=Actor.system("test"))
    assert check_cutover_thresholds().cases_resolved == [case.pk]


def test_the_thresholds_are_checked_by_the_schema_and_the_beat_runs_the_check(shadow_channel):
    assert threshold_errors({"cutover_min_agreement_percent": 101}) == [
        "Threshold cutover_min_agreement_percent: Input should be less than or equal to 100."
    ]
    assert threshold_errors({"cutover_agreement_days": "seven"}) == [
        "Threshold cutover_agreement_days: a whole number is needed, got 'seven'."
    ]
    schedule = celery_app.conf.beat_schedule["check-cutover-thresholds"]
    assert (schedule["task"], schedule["schedule"]) == (
        "migration.tasks.check_cutover_thresholds_task", 300.0,
    )  # fmt: skip
    assert check_cutover_thresholds_task.delay().get() == {"raised": 0, "resolved": 0}


def test_webhook_errors_and_inventory_variance_are_gates_too(shadow_channel, people):
    _thresholds(
        people,
        cutover_min_agreement_percent=0,
        cutover_min_calls=4,
        cutover_max_webhook_error_percent=25,
        cutover_max_inventory_variance_percent=5,
    )
    order = Order.objects.filter(channel=shadow_channel).first()
    subscription = WebhookSubscription.objects.create(
        name="t", url="https://example.com/hook", event_types=["*"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=Event.objects.filter(stream=order.stream).first(),
        status="delivered",
        created_at=NOW,
    )
    for code in (500, None, 200):  # 2 of 3 failed, but fewer than cutover_min_calls
        WebhookAttempt.objects.create(delivery=delivery, at=NOW, status_code=code)
    InventoryReconciliation.objects.create(
        source="dc counts", reconciled_at=NOW, pairs=40, within_tolerance=38, variance_pairs=2
    )
    assert check_cutover_thresholds(now=NOW).cases_raised == []  # 5.0% is not above 5

    WebhookAttempt.objects.create(delivery=delivery, at=NOW, status_code=503)
    InventoryReconciliation.objects.create(
        source="dc counts",
        reconciled_at=NOW + timedelta(hours=1),
        pairs=40,
        within_tolerance=36,
        variance_pairs=4,
    )
    [verdict] = check_cutover_thresholds(now=NOW).verdicts

    assert [b["check"] for b in verdict.breaches] == ["webhook_errors", "inventory_variance"]
    case = ExceptionCase.objects.get(kind="cutover_no_go")
    assert case.summary == (
        "web (shadow): no-go: 75.0% of 4 webhook attempts failed (at most 25%); 10.0% of 40 "
        "node×SKU pairs differ in the latest inventory reconciliation (at most 5%)"
    )

    # the node counts are fixed: a clean reconciliation clears that gate, the webhooks remain
    InventoryReconciliation.objects.create(
        source="dc counts", reconciled_at=NOW + timedelta(hours=2), pairs=40, within_tolerance=40
    )
    [verdict] = check_cutover_thresholds(now=NOW).verdicts
    assert [b["check"] for b in verdict.breaches] == ["webhook_errors"]
    assert ExceptionCase.objects.get(kind="cutover_no_go").is_open
