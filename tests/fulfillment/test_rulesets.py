"""Routing rule sets: validation, maker-checker, one active set per scope, used by routing."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from fulfillment.exceptions import InvalidRuleConfig, RuleSetRefused
from fulfillment.models import RoutingRuleSet, RuleSetStatus
from fulfillment.services.backtest import run_backtest
from fulfillment.services.routing import route_order
from fulfillment.services.rulesets import (
    approve_rule_set,
    create_rule_set,
    new_version_of,
    reject_rule_set,
    submit_rule_set,
    update_draft,
)
from inventory.models import InventoryMovement, Reservation, StockLevel
from oms.core.actors import Actor
from oms.events.models import Event
from tests.factories.inventory import stocked
from tests.factories.orders import captured_order
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

PERIOD = {
    "period_from": datetime(2026, 10, 1, tzinfo=UTC),
    "period_to": datetime(2026, 12, 1, tzinfo=UTC),
}


@pytest.fixture
def maker(db):
    return staff_user("maker")


@pytest.fixture
def checker(db):
    return staff_user("checker")


def pending(maker, config=None, key="default"):
    rule_set = create_rule_set(key=key, name="Default routing", config=config or {}, author=maker)
    return submit_rule_set(rule_set_id=rule_set.pk, user=maker)


def test_invalid_config_is_refused_in_words_and_nothing_is_created(maker):
    with pytest.raises(InvalidRuleConfig) as caught:
        create_rule_set(
            key="bad",
            name="Bad",
            author=maker,
            config={"weights": {"distance": -1}, "surprise": True},
        )

    messages = [e.detail for e in caught.value.errors]
    assert any(m.startswith("weights.distance") for m in messages)
    assert any("surprise" in m for m in messages)
    assert caught.value.code == "validation_failed"
    assert not RoutingRuleSet.objects.exists()


def test_the_author_cannot_approve_their_own_rule_set(maker):
    rule_set = pending(maker)
    run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)

    with pytest.raises(RuleSetRefused) as caught:
        approve_rule_set(rule_set_id=rule_set.pk, approver=maker)

    assert caught.value.code == "self_approval_forbidden"
    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL


def test_approval_needs_a_backtest_first(maker, checker):
    rule_set = pending(maker)

    with pytest.raises(RuleSetRefused) as caught:
        approve_rule_set(rule_set_id=rule_set.pk, approver=checker)

    assert caught.value.code == "backtest_required"


def test_approving_activates_and_retires_the_previous_active_set(maker, checker):
    # given: version 1 active
    first = pending(maker)
    run_backtest(rule_set_id=first.pk, user=maker, **PERIOD)
    approve_rule_set(rule_set_id=first.pk, approver=checker)
    # and version 2 drafted from it, then submitted and backtested
    second = new_version_of(rule_set_id=first.pk, author=maker)
    update_draft(
        rule_set_id=second.pk, editor=maker, config={"filters": {"excluded_nodes": ["store-nyc"]}}
    )
    submit_rule_set(rule_set_id=second.pk, user=maker)
    run_backtest(rule_set_id=second.pk, user=maker, **PERIOD)

    # when
    approve_rule_set(rule_set_id=second.pk, approver=checker, note="ok")

    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.version, second.status, second.approved_by) == (2, "active", checker)
    assert first.status == RuleSetStatus.RETIRED
    assert second.config["filters"]["excluded_nodes"] == ["store-nyc"]
    assert list(Event.objects.filter(stream="ruleset:default").values_list("type", flat=True)) == [
        "routing_rules.created",
        "routing_rules.submitted",
        "routing_rules.backtested",
        "routing_rules.approved",
        "routing_rules.created",
        "routing_rules.submitted",
        "routing_rules.backtested",
        "routing_rules.retired",
        "routing_rules.approved",
    ]


def test_a_submitted_set_is_frozen(maker):
    rule_set = pending(maker)

    with pytest.raises(RuleSetRefused) as caught:
        update_draft(rule_set_id=rule_set.pk, editor=maker, config={})

    assert caught.value.code == "rule_set_not_editable"


def test_rejecting_sends_it_back_to_draft_with_the_note(maker, checker):
    rule_set = pending(maker)

    reject_rule_set(rule_set_id=rule_set.pk, approver=checker, note="too aggressive")

    rule_set.refresh_from_db()
    assert (rule_set.status, rule_set.review_note) == ("draft", "too aggressive")


def test_the_database_refuses_two_active_sets_for_one_scope(maker, checker):
    rule_set = pending(maker)
    run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)
    approve_rule_set(rule_set_id=rule_set.pk, approver=checker)
    other = create_rule_set(key="other", name="Other", config={}, author=maker)

    with pytest.raises(IntegrityError):
        RoutingRuleSet.objects.filter(pk=other.pk).update(status="active")  # rule-ok


def test_routing_uses_the_active_rule_set_and_says_so(maker, checker, network, products):
    # given: the nearer east DC is excluded by the active set
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["west"], products["TEE"], on_hand=5)
    rule_set = pending(maker, config={"filters": {"excluded_nodes": ["dc-east"]}})
    run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)
    approve_rule_set(rule_set_id=rule_set.pk, approver=checker)
    order = captured_order(skus=["TEE"])

    # when
    decision = route_order(order_id=order.pk, actor=Actor.system("test"))

    # then
    assert decision.rule_set_id == rule_set.pk
    assert list(Reservation.objects.values_list("node__code", flat=True)) == ["dc-west"]
    east = next(c for c in decision.plan["attempts"][0]["candidates"] if c["code"] == "dc-east")
    assert [e["filter"] for e in east["excluded"]] == ["excluded_node"]


def test_backtest_compares_with_the_active_set_and_touches_no_stock(
    maker, checker, network, products, capsys
):
    # given: five past orders near the east DC; the candidate excludes it
    stocked(network["east"], products["TEE"], on_hand=50)
    stocked(network["west"], products["TEE"], on_hand=50)
    for i in range(5):
        captured_order(
            external_id=f"H-{i}", skus=["TEE"], placed_at=datetime(2026, 11, 2, 10, i, tzinfo=UTC)
        )
    candidate = pending(maker, config={"filters": {"excluded_nodes": ["dc-east"]}}, key="west-only")
    stock_before = list(StockLevel.objects.values_list("reserved", "on_hand"))
    ledger_before = InventoryMovement.objects.count()

    # when
    call_command(
        "backtest_rules",
        "--ruleset",
        str(candidate.pk),
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    )

    # then
    report = candidate.backtests.get()
    assert report.orders_considered == 5
    assert report.candidate_metrics["node_load"] == {"dc-west": 5}
    assert report.baseline_metrics["node_load"] == {"dc-east": 5}
    assert report.baseline_metrics["label"] == "built-in defaults"
    assert report.candidate_metrics["fully_sourced_share"] == 1.0
    assert (
        report.candidate_metrics["average_distance_miles"]
        > report.baseline_metrics["average_distance_miles"]
    )
    assert list(StockLevel.objects.values_list("reserved", "on_hand")) == stock_before
    assert InventoryMovement.objects.count() == ledger_before
    printed = capsys.readouterr().out
    assert "split-shipment rate" in printed
    assert "dc-west" in printed
