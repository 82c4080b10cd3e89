"""Cutover plans: maker-checker like rule sets, events, and who owns a captured order."""

import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from fulfillment.models import RoutingDecision
from inventory.models import Reservation
from migration.exceptions import CutoverRefused
from migration.models import CutoverPlan, LegacyHandoff
from migration.services.cutover import (
    approve_plan,
    canary_bucket,
    in_canary,
    owner_for,
    propose_plan,
)
from oms.events.models import Event
from orders.ownership import OwnershipQuery
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from tests.migration.cutover_support import network, set_mode

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"alice": superuser("alice"), "bob": superuser("bob")}


def _query(external_id: str, **overrides) -> OwnershipQuery:
    fields = {
        "channel_id": 0,
        "channel_code": "web",
        "external_id": external_id,
        "delivery_method": "ship",
        "region": "OH",
        "postal_code": "43215",
        "pickup_node_code": "",
        "legacy_mirror": False,
    }
    fields.update(overrides)
    return OwnershipQuery(**fields)


def test_a_plan_is_proposed_pending_and_cannot_be_approved_by_its_author(web_channel, people):
    # when
    plan = propose_plan(channel_code="web", mode="shadow", author=people["alice"])

    # then
    assert plan.status == "pending_approval"
    with pytest.raises(CutoverRefused) as refused:
        approve_plan(plan_id=plan.pk, approver=people["alice"])
    assert refused.value.code == "self_approval_forbidden"
    plan.refresh_from_db()
    assert plan.status == "pending_approval"
    assert list(Event.objects.filter(stream="cutover:web").values_list("type", flat=True)) == [
        "cutover.plan_created",
        "cutover.plan_submitted",
    ]


def test_approval_activates_the_plan_and_retires_the_previous_one(web_channel, people):
    # given
    first = set_mode("web", "shadow", author=people["alice"], approver=people["bob"])

    # when
    second = propose_plan(
        channel_code="web", mode="canary", share_percent="10", author=people["bob"]
    )
    approved = approve_plan(plan_id=second.pk, approver=people["alice"], note="week 2")

    # then
    first.refresh_from_db()
    assert (first.status, approved.plan.status, approved.previous_mode) == (
        "retired",
        "active",
        "shadow",
    )
    assert (approved.plan.version, approved.plan.share_percent) == (2, Decimal("10.00"))
    types = list(Event.objects.filter(stream="cutover:web").values_list("type", flat=True))
    assert types[-2:] == ["cutover.plan_retired", "cutover.plan_approved"]
    assert CutoverPlan.objects.filter(channel=web_channel, status="active").count() == 1
    web_channel.refresh_from_db()  # the channel row carries the approved plan for capture
    assert (
        web_channel.cutover_mode,
        web_channel.cutover_share,
        web_channel.cutover_narrowing,
    ) == ("canary", Decimal("10.00"), {})


@pytest.mark.parametrize(
    ("_case", "mode", "share", "narrowing", "code"),
    [
        ("share over 100", "canary", "101", None, "bad_share"),
        ("no share", "canary", None, None, "bad_share"),
        ("narrowed shadow", "shadow", None, {"regions": ["CA"]}, "bad_narrowing"),
        ("unknown narrowing", "canary", "5", {"colour": ["red"]}, "bad_narrowing"),
    ],
)
def test_bad_plans_are_refused_and_write_nothing(web_channel, _case, mode, share, narrowing, code):
    with pytest.raises(CutoverRefused) as refused:
        propose_plan(
            channel_code="web", mode=mode, share_percent=share, narrowing=narrowing, author=None
        )

    assert refused.value.code == code
    assert not CutoverPlan.objects.exists()
    assert not Event.objects.filter(stream="cutover:web").exists()


def test_canary_split_is_deterministic_and_within_2_percent_over_10000_ids():
    ids = [f"WEB-{n:06d}" for n in range(10_000)]

    owned = [in_canary(Decimal("10"), {}, _query(i)) for i in ids]
    again = [in_canary(Decimal("10"), {}, _query(i)) for i in ids]

    assert owned == again
    assert 800 <= sum(owned) <= 1200  # 10 % ± 2 % of 10,000
    assert all(0 <= canary_bucket("web", i) < 10_000 for i in ids[:100])


def test_canary_narrowing_keeps_orders_outside_it_legacy():
    ids = [f"WEB-{n:05d}" for n in range(2_000)]

    in_ohio = sum(in_canary(Decimal("100"), {"regions": ["OH"]}, _query(i)) for i in ids)
    in_cal = sum(
        in_canary(Decimal("100"), {"regions": ["OH"]}, _query(i, region="CA")) for i in ids
    )
    by_prefix = sum(in_canary(Decimal("100"), {"postal_prefixes": ["432"]}, _query(i)) for i in ids)
    pickup_only = sum(
        in_canary(Decimal("100"), {"delivery_methods": ["pickup"]}, _query(i)) for i in ids
    )

    assert (in_ohio, in_cal, by_prefix, pickup_only) == (2_000, 0, 2_000, 0)


def test_without_a_plan_oms_owns_native_orders_and_mirrors_are_legacy(web_channel):
    assert owner_for(_query("A", channel_id=web_channel.pk)) == "oms"
    assert owner_for(_query("A", channel_id=web_channel.pk, legacy_mirror=True)) == "legacy"


def test_a_shadow_order_is_stored_planned_and_handed_off_but_not_reserved(
    web_channel, people, django_capture_on_commit_callbacks, settings, tmp_path
):
    # given
    settings.OMS_LEGACY_HANDOFF_DIR = tmp_path
    network()
    set_mode("web", "shadow", author=people["alice"], approver=people["bob"])
    web_channel.refresh_from_db()  # capture reads the plan from the channel row it is given

    # when
    with django_capture_on_commit_callbacks(execute=True):
        order = captured_order(web_channel, external_id="WEB-1", skus=["TEE"])

    # then
    order.refresh_from_db()
    assert (order.owner, order.status) == ("shadow", "created")
    assert not Reservation.objects.filter(order_line__order=order).exists()
    assert not RoutingDecision.objects.filter(order=order).exists()
    assert order.shadow_decision.allocations == [{"node": "dc-east", "sku": "TEE", "quantity": 1}]
    handoff = LegacyHandoff.objects.get(order=order)
    assert (handoff.status, handoff.reason) == ("sent", "not_owned")
    written = (tmp_path / f"{order.number}.csv").read_text()
    assert written.splitlines()[1].startswith("WEB-1,2026-11-01 07:00,USD,CREATED,")
    assert list(
        Event.objects.filter(stream=order.stream).values_list("type", flat=True).order_by("seq")
    ) == ["order.created", "order.handoff_queued", "order.shadow_planned", "order.handoff_sent"]


def test_canary_orders_split_between_oms_and_legacy(
    web_channel, people, django_capture_on_commit_callbacks, settings, tmp_path
):
    # given
    settings.OMS_LEGACY_HANDOFF_DIR = tmp_path
    network()
    set_mode("web", "canary", share="50", author=people["alice"], approver=people["bob"])
    web_channel.refresh_from_db()
    ids = [f"WEB-{n}" for n in range(12)]
    expected = {i: canary_bucket("web", i) < 5000 for i in ids}

    # when
    with django_capture_on_commit_callbacks(execute=True):
        orders = [captured_order(web_channel, external_id=i, skus=["TEE"]) for i in ids]

    # then
    for order in orders:
        order.refresh_from_db()
        owned = expected[order.external_id]
        assert order.owner == ("oms" if owned else "legacy")
        assert RoutingDecision.objects.filter(order=order).exists() is owned
        assert LegacyHandoff.objects.filter(order=order).exists() is not owned
    assert 0 < sum(expected.values()) < 12


def test_the_command_proposes_and_approves_as_a_second_user(web_channel, people, capsys):
    call_command(
        "cutover",
        "--channel",
        "web",
        "--mode",
        "canary",
        "--share",
        "10",
        "--as",
        "alice",
        "--approve-as",
        "bob",
    )

    out = capsys.readouterr().out
    assert re.search(r"proposed web canary 10.00% v1 \(pending approval\) \(id \d+\)", out)
    assert "approved by bob: web is now canary (was oms)" in out
    plan = CutoverPlan.objects.get(channel=web_channel)
    assert (plan.status, plan.approved_by.username, plan.created_by.username) == (
        "active",
        "bob",
        "alice",
    )


def test_the_command_refuses_self_approval(web_channel, people):
    with pytest.raises(CommandError, match="self_approval_forbidden"):
        call_command(
            "cutover", "--channel", "web", "--mode", "oms", "--as", "alice", "--approve-as", "alice"
        )

    assert CutoverPlan.objects.get(channel=web_channel).status == "pending_approval"


def test_api_answers_the_channels_mode_and_share(web_api, web_channel, pos_channel, people):
    # given
    set_mode("web", "canary", share="12.5", author=people["alice"], approver=people["bob"])
    propose_plan(channel_code="web", mode="oms", author=people["alice"])

    # when
    body = web_api.get("/api/v1/cutover/web/").json()

    # then
    assert body == {
        "channel": "web",
        "mode": "canary",
        "share_percent": "12.50",
        "narrowing": {},
        "version": 1,
        "approved_at": body["approved_at"],
        "pending": {"version": 2, "mode": "oms", "share_percent": "100.00"},
    }
    assert body["approved_at"] is not None


def test_api_without_a_plan_says_oms_owns_everything(web_api, web_channel):
    body = web_api.get("/api/v1/cutover/web/").json()

    assert (body["mode"], body["share_percent"], body["version"]) == ("oms", "100.00", None)


@pytest.mark.parametrize(
    ("principal", "channel", "expected"),
    [("web", "web", 200), ("web", "pos", 404), ("pos", "pos", 200), ("pos", "web", 404)],
)
def test_api_scope_matrix(request, web_channel, pos_channel, principal, channel, expected):
    api = request.getfixturevalue(f"{principal}_api")

    assert api.get(f"/api/v1/cutover/{channel}/").status_code == expected
    mirror = api.post(f"/api/v1/cutover/{channel}/legacy-orders/", {}, format="json")
    assert mirror.status_code == (400 if expected == 200 else 404)
