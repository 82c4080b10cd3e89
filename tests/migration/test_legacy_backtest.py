"""`backtest_rules --against legacy`: a candidate rule set replayed over the mirrored legacy
orders, its agreement with the legacy decisions next to the one the shadow run recorded."""

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from fulfillment.services.rulesets import create_rule_set
from inventory.models import Reservation
from migration.models import ShadowDecision
from migration.services.legacy_backtest import backtest_against_legacy
from migration.services.shadow import LegacyAllocation, record_legacy_decision
from oms.events.models import Event
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from tests.migration.cutover_support import network, set_mode

pytestmark = pytest.mark.django_db
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV_2 = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture
def mirrored(web_channel, django_capture_on_commit_callbacks, settings, tmp_path):
    """10 shadow orders on Nov 1: the legacy system sent 3 to dc-east (as oms's active
    defaults do: it is next door) and 7 to dc-west (Reno)."""
    settings.OMS_LEGACY_HANDOFF_DIR = tmp_path
    network()
    alice, bob = superuser("alice"), superuser("bob")
    set_mode("web", "shadow", author=alice, approver=bob)
    web_channel.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        for n, node in enumerate(["dc-east"] * 3 + ["dc-west"] * 7):
            order = captured_order(web_channel, external_id=f"WEB-{n}", skus=["TEE"])
            record_legacy_decision(
                order_id=order.pk, allocations=[LegacyAllocation(node, "TEE", 1)], source="api"
            )
    # not mirrored (no legacy decision) and outside the period: both left out
    set_mode("web", "oms", author=alice, approver=bob)
    web_channel.refresh_from_db()
    captured_order(web_channel, external_id="NATIVE-1", skus=["TEE"])
    return {"author": alice, "channel": web_channel}


def test_a_candidate_that_prefers_reno_agrees_more_often_than_the_recorded_shadow(mirrored, capsys):
    candidate = create_rule_set(
        key="web-west",
        name="Reno first",
        config={"filters": {"excluded_nodes": ["dc-east"]}},
        author=mirrored["author"],
        channel_code="web",
    )
    shadows_before = list(ShadowDecision.objects.values_list("pk", "allocations"))
    events_before = Event.objects.count()

    call_command(
        "backtest_rules", "--ruleset", str(candidate.pk), "--from", "2026-11-01",
        "--to", "2026-11-01", "--against", "legacy",
    )  # fmt: skip

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (
        f"Backtest of {candidate} against the legacy decisions, web, 2026-11-01 to 2026-11-02: "
        "10 mirrored orders"
    )
    assert printed[2].split() == ["agreement", "with", "legacy", "70.0%"]
    assert printed[3].split() == ["split", "rate", "0.0%", "0.0%"]
    assert printed[4].split() == ["backorder", "rate", "0.0%", "0.0%"]
    # both sides estimated with the candidate's figures: every order from Reno for the candidate,
    # 3 of 10 from Columbus for the legacy system (cheaper: closer)
    result = backtest_against_legacy(rule_set_id=candidate.pk, period_from=NOV_1, period_to=NOV_2)
    reno = {d.oms.cost for d in result.diffs}
    east = {d.legacy.cost for d in result.diffs if d.legacy.nodes == ("dc-east",)}
    [reno_cost], [east_cost] = reno, east
    assert east_cost < reno_cost
    legacy_avg = ((7 * reno_cost + 3 * east_cost) / 10).quantize(reno_cost)
    assert printed[6].split() == ["average", "est.", "cost", str(reno_cost), str(legacy_avg)]
    assert printed[7].split()[:4] == ["average", "days", "to", "promise"]
    assert printed[8] == "candidate agreed on 7 of 10"
    assert (
        printed[9] == "recorded shadow decisions (the rule set active then): 3 of 10 agreed (30.0%)"
    )
    assert printed[10] == "differences (3 of 3):"
    assert all(
        line.startswith("  OMS-")
        and ": candidate dc-west, legacy dc-east: legacy node dc-east excluded by oms: " in line
        for line in printed[11:]
    )
    assert len(printed) == 14
    # nothing reserved, stored or recorded
    assert not Reservation.objects.exists()
    assert list(ShadowDecision.objects.values_list("pk", "allocations")) == shadows_before
    assert Event.objects.count() == events_before


def test_the_active_defaults_replayed_agree_as_the_shadow_recorded(mirrored):
    candidate = create_rule_set(
        key="web-same", name="Defaults", config={}, author=mirrored["author"], channel_code="web"
    )
    result = backtest_against_legacy(rule_set_id=candidate.pk, period_from=NOV_1, period_to=NOV_2)
    assert result.agreement == result.recorded_agreement == (3, 10, 30.0)
    assert [d.oms.nodes for d in result.diffs] == [("dc-east",)] * 10


def test_a_bad_period_or_rule_set_is_refused_in_words(mirrored):
    with pytest.raises(CommandError, match="'from' must be before 'to'"):
        call_command(
            "backtest_rules", "--ruleset", "1", "--from", "2026-11-03", "--to", "2026-11-01",
            "--against", "legacy",
        )  # fmt: skip
    with pytest.raises(CommandError, match="No routing rule set 999999"):
        call_command(
            "backtest_rules", "--ruleset", "999999", "--from", "2026-11-01", "--to", "2026-11-01",
            "--against", "legacy",
        )  # fmt: skip
