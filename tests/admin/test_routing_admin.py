"""Routing in the admin: rule sets drafted, backtested and approved through the services,
backtest reports a business user can read, and the "Routing" panel of the order page."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from fulfillment.exceptions import RuleSetRefused
from fulfillment.models import BacktestReport, RoutingDecision, RoutingRuleSet, RuleSetStatus
from fulfillment.services.backtest import run_backtest
from fulfillment.services.routing import route_order
from fulfillment.services.rulesets import approve_rule_set, create_rule_set, submit_rule_set
from oms.core.actors import Actor
from oms.events.models import Event
from tests.admin.conftest import client_for, messages_of
from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory, stocked
from tests.factories.orders import captured_order
from tests.factories.users import staff_user, superuser

pytestmark = pytest.mark.django_db

ADD = "admin:fulfillment_routingruleset_add"
PERIOD = {
    "period_from": datetime(2026, 10, 1, tzinfo=UTC),
    "period_to": datetime(2026, 12, 1, tzinfo=UTC),
}


@pytest.fixture
def maker(db):
    return staff_user("maker", "ops_admin")


@pytest.fixture
def checker(db):
    return staff_user("checker", "ops_admin")


@pytest.fixture
def network(db):
    """Two DCs (Columbus OH, Reno NV) and a New York store, at real coordinates."""
    return {
        "east": NodeFactory(
            code="dc-east",
            latitude=Decimal("39.8700"),
            longitude=Decimal("-82.9500"),
            fulfillment_region="east",
            priority=10,
        ),
        "west": NodeFactory(
            code="dc-west",
            latitude=Decimal("39.5300"),
            longitude=Decimal("-119.7500"),
            fulfillment_region="west",
            priority=10,
        ),
        "nyc": StoreFactory(
            code="store-nyc",
            latitude=Decimal("40.7500"),
            longitude=Decimal("-73.9900"),
            fulfillment_region="east",
            priority=50,
        ),
    }


def change_url(rule_set) -> str:
    return reverse("admin:fulfillment_routingruleset_change", args=[rule_set.pk])


def action_url(rule_set, name: str) -> str:
    return reverse(f"admin:fulfillment_routingruleset_{name}_detail", args=[rule_set.pk])


def post_action(client, rule_set, name: str, **data):
    return client.post(action_url(rule_set, name), {"_form_submitted": "True", **data})


def add_form(config, **overrides) -> dict:
    return {
        "key": "default",
        "name": "Default routing",
        "description": "",
        "channel": "",
        "config": config if isinstance(config, str) else json.dumps(config),
        **overrides,
    }


def pending(author, config=None, key="default") -> RoutingRuleSet:
    rule_set = create_rule_set(key=key, name="Default routing", config=config or {}, author=author)
    return submit_rule_set(rule_set_id=rule_set.pk, user=author)


def active(author, approver, config=None) -> RoutingRuleSet:
    rule_set = pending(author, config)
    run_backtest(rule_set_id=rule_set.pk, user=author, **PERIOD)
    return approve_rule_set(rule_set_id=rule_set.pk, approver=approver)


def errors(response) -> list[str]:
    return [text for level, text in messages_of(response) if level == "error"]


# --- rule sets: add and edit ------------------------------------------------------------------


def test_add_page_offers_the_default_config_as_json(maker):
    response = client_for(maker).get(reverse(ADD))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="config"' in content
    assert "&quot;max_shipments&quot;: 3" in content  # RuleConfig() defaults, pretty-printed
    assert "&quot;partial_policy&quot;: &quot;split&quot;" in content


def test_add_with_invalid_config_shows_the_messages_and_creates_nothing(maker):
    client = client_for(maker)

    response = client.post(reverse(ADD), add_form({"weights": {"distance": -1}, "surprise": True}))

    assert response.status_code == 200  # the form again, with the errors next to the field
    assert list(response.context["adminform"].form.errors) == ["config"]
    content = response.content.decode()
    assert "weights.distance: must be zero or more" in content
    assert "surprise: unknown setting" in content
    assert "ValidationError" not in content
    assert "pydantic" not in content
    assert not RoutingRuleSet.objects.exists()

    broken = client.post(reverse(ADD), add_form('{"max_shipments": 2,'))
    assert broken.status_code == 200
    assert "This is not valid JSON" in broken.content.decode()
    assert not RoutingRuleSet.objects.exists()


def test_add_with_valid_config_creates_draft_version_1(maker):
    response = client_for(maker).post(reverse(ADD), add_form({"max_shipments": 2}))

    rule_set = RoutingRuleSet.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(rule_set)
    assert (rule_set.key, rule_set.version, rule_set.status) == ("default", 1, "draft")
    assert rule_set.created_by == maker
    assert rule_set.channel is None
    assert rule_set.config["max_shipments"] == 2
    assert rule_set.config["weights"]["distance"] == 0.01  # normalised: defaults filled in
    assert list(Event.objects.filter(stream="ruleset:default").values_list("type", flat=True)) == [
        "routing_rules.created"
    ]


def test_a_draft_is_edited_through_update_draft(maker, checker):
    rule_set = create_rule_set(key="default", name="Default routing", config={}, author=maker)
    client = client_for(checker)
    url = change_url(rule_set)

    invalid = client.post(
        url, {"name": "Renamed", "description": "", "config": '{"max_shipments": 0}'}
    )
    assert invalid.status_code == 200
    assert "max_shipments: must be 1 or more" in invalid.content.decode()

    response = client.post(
        url, {"name": "Renamed", "description": "Fewer splits", "config": '{"max_shipments": 1}'}
    )

    assert response.status_code == 302
    rule_set.refresh_from_db()
    assert (rule_set.name, rule_set.description) == ("Renamed", "Fewer splits")
    assert rule_set.config["max_shipments"] == 1
    assert rule_set.created_by == checker  # whoever last shaped the draft is its author


def test_a_submitted_version_is_frozen(maker):
    rule_set = pending(maker, {"max_shipments": 2})
    client = client_for(maker)

    page = client.get(change_url(rule_set))

    assert page.status_code == 200
    content = page.content.decode()
    assert "Submitted versions are frozen" in content
    assert "New version" in content
    assert page.context["adminform"].form.fields == {}
    assert 'name="_save"' not in content
    assert "&quot;max_shipments&quot;: 2" in content  # the config, pretty-printed
    assert client.post(change_url(rule_set), {"name": "x", "config": "{}"}).status_code == 403
    rule_set.refresh_from_db()
    assert rule_set.name == "Default routing"


# --- rule sets: maker-checker through the page's actions -------------------------------------


def test_the_author_cannot_approve_their_own_version(maker):
    client = client_for(maker)
    rule_set = create_rule_set(key="default", name="Default routing", config={}, author=maker)

    submitted = post_action(client, rule_set, "submit")
    assert submitted.status_code == 302
    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL
    run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)

    response = post_action(client, rule_set, "approve", note="looks fine")

    assert response.status_code == 302
    [error] = errors(response)
    assert "approved by someone other than its author" in error
    page = client.get(response["Location"])
    assert "approved by someone other than its author" in page.content.decode()
    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL
    assert rule_set.approved_by is None


def test_approval_without_a_backtest_is_refused_in_words(maker, checker):
    rule_set = pending(maker)

    response = post_action(client_for(checker), rule_set, "approve")

    [error] = errors(response)
    assert "Run a backtest" in error
    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL


def test_actions_change_nothing_on_get(maker, checker):
    rule_set = pending(maker)
    run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)

    dialog = client_for(checker).get(action_url(rule_set, "approve"))

    assert dialog.status_code == 200
    assert 'name="note"' in dialog.content.decode()
    assert 'name="csrfmiddlewaretoken"' in dialog.content.decode()
    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL


def test_run_backtest_action_opens_a_readable_report(maker, network):
    # given: orders of November near the east DC; the candidate excludes that DC
    product = ProductFactory(sku="TEE")
    stocked(network["east"], product, on_hand=50)
    stocked(network["west"], product, on_hand=50)
    for i in range(3):
        captured_order(
            external_id=f"H-{i}", skus=["TEE"], placed_at=datetime(2026, 11, 2, 10, i, tzinfo=UTC)
        )
    rule_set = pending(maker, {"filters": {"excluded_nodes": ["dc-east"]}})
    client = client_for(maker)

    # the dialog offers the last 30 days by default
    dialog = client.get(action_url(rule_set, "backtest"))
    assert 'name="period_from"' in dialog.content.decode()
    assert not BacktestReport.objects.exists()

    # when
    response = post_action(
        client, rule_set, "backtest", period_from="2026-11-01", period_to="2026-11-30"
    )

    # then
    report = BacktestReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:fulfillment_backtestreport_change", args=[report.pk]
    )
    assert report.rule_set == rule_set
    assert report.created_by == maker
    assert report.period_from == datetime(2026, 11, 1, tzinfo=UTC)
    assert report.period_to == datetime(2026, 12, 1, tzinfo=UTC)  # "to" day included
    assert report.orders_considered == 3

    page = client.get(response["Location"])
    assert page.status_code == 200
    content = page.content.decode()
    for label in (
        "Orders replayed",
        "Fully sourced",
        "Split-shipment rate",
        "Shipments",
        "Average distance (miles)",
        "Estimated shipping cost",
        "Backordered units",
        "Rejected orders",
        "Routing time p50 (ms)",
        "Routing time p99 (ms)",
        "built-in defaults",  # the baseline: nothing was active
        "2026-11-01 to 2026-11-30",
    ):
        assert label in content, label
    nodes = {row["code"]: row for row in page.context["backtest"]["nodes"]}
    assert (nodes["dc-west"]["candidate"], nodes["dc-west"]["baseline"]) == (3, 0)
    assert (nodes["dc-east"]["candidate"], nodes["dc-east"]["baseline"]) == (0, 3)
    assert "dc-west" in content
    assert "dc-east" in content
    distance = next(
        row for row in page.context["backtest"]["metrics"] if row["label"].startswith("Average")
    )
    assert distance["verdict"] == "worse"  # Reno is farther from Columbus than Columbus

    # and the rule set page lists the report
    listed = client.get(change_url(rule_set)).content.decode()
    assert f"Backtest #{report.pk}" in listed


def test_backtest_dialog_refuses_a_reversed_period(maker):
    rule_set = pending(maker)

    response = post_action(
        client_for(maker), rule_set, "backtest", period_from="2026-11-30", period_to="2026-11-01"
    )

    assert response.status_code == 200  # the dialog again, with the error
    assert "must be on or after" in response.content.decode()
    assert not BacktestReport.objects.exists()


def test_another_user_approves_and_the_set_becomes_active(maker, checker):
    rule_set = pending(maker)
    run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)

    response = post_action(client_for(checker), rule_set, "approve", note="ok")

    assert response.status_code == 302
    assert not errors(response)
    rule_set.refresh_from_db()
    assert (rule_set.status, rule_set.approved_by, rule_set.review_note) == (
        RuleSetStatus.ACTIVE,
        checker,
        "ok",
    )
    changelist = reverse("admin:fulfillment_routingruleset_changelist")
    other = create_rule_set(key="other", name="Other", config={}, author=maker)
    client = client_for(checker)

    def listed(**params) -> list[int]:
        response = client.get(changelist, params)
        assert response.status_code == 200
        return sorted(r.pk for r in response.context["cl"].result_list)

    assert listed(status="active") == [rule_set.pk]
    assert listed(scope="default") == sorted([rule_set.pk, other.pk])
    assert listed(q="other") == [other.pk]


def test_reject_needs_a_note_and_sends_back_to_draft(maker, checker):
    rule_set = pending(maker)
    client = client_for(checker)

    without_note = post_action(client, rule_set, "reject")
    assert without_note.status_code == 200  # the dialog again: the note is required
    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL

    post_action(client, rule_set, "reject", note="Too many splits")

    rule_set.refresh_from_db()
    assert (rule_set.status, rule_set.review_note) == (RuleSetStatus.DRAFT, "Too many splits")
    assert "Too many splits" in client.get(change_url(rule_set)).content.decode()


def test_new_version_of_the_active_set_is_a_v2_draft(maker, checker):
    first = active(maker, checker, {"max_shipments": 2})

    response = post_action(client_for(maker), first, "new_version")

    second = RoutingRuleSet.objects.get(key="default", version=2)
    assert response.status_code == 302
    assert response["Location"] == change_url(second)
    assert (second.status, second.created_by, second.config) == (
        RuleSetStatus.DRAFT,
        maker,
        first.config,
    )
    first.refresh_from_db()
    assert first.status == RuleSetStatus.ACTIVE  # untouched until v2 is approved


def test_retire_and_a_refused_action_becomes_a_message(maker, checker):
    rule_set = active(maker, checker)
    client = client_for(checker)

    post_action(client, rule_set, "retire")
    again = post_action(client, rule_set, "retire")

    rule_set.refresh_from_db()
    assert rule_set.status == RuleSetStatus.RETIRED
    [error] = errors(again)
    assert "is not active" in error


def test_a_refusal_while_saving_a_draft_becomes_a_message(maker, monkeypatch):
    rule_set = create_rule_set(key="default", name="Default routing", config={}, author=maker)

    def submitted_meanwhile(**kwargs):
        raise RuleSetRefused("rule_set_not_editable", "It can no longer change.")

    monkeypatch.setattr("fulfillment.admin.rulesets.update_draft", submitted_meanwhile)

    response = client_for(maker).post(
        change_url(rule_set), {"name": "Renamed", "description": "", "config": "{}"}
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(rule_set)
    assert errors(response) == ["It can no longer change."]
    rule_set.refresh_from_db()
    assert rule_set.name == "Default routing"


def test_history_is_shown_but_cannot_be_reverted(maker):
    rule_set = create_rule_set(key="default", name="Default routing", config={}, author=maker)
    client = client_for(superuser())
    history = reverse("admin:fulfillment_routingruleset_history", args=[rule_set.pk])

    assert client.get(history).status_code == 200
    version = rule_set.history.get()
    revert = reverse(
        "admin:fulfillment_routingruleset_simple_history", args=[rule_set.pk, version.pk]
    )
    assert client.post(revert, {"name": "Reverted", "config": "{}"}).status_code == 403


def test_page_offers_only_the_actions_of_its_state(maker, checker):
    rule_set = pending(maker)

    page = client_for(checker).get(change_url(rule_set))

    offered = {item["title"] for item in page.context["actions_detail"]}
    assert offered == {"Run backtest", "Approve", "Reject", "New version"}


# --- backtest reports and decisions are read-only ---------------------------------------------


def test_reports_and_decisions_cannot_be_added_changed_or_deleted(maker):
    rule_set = pending(maker)
    report = run_backtest(rule_set_id=rule_set.pk, user=maker, **PERIOD)
    client = client_for(superuser())

    assert client.get(reverse("admin:fulfillment_backtestreport_add")).status_code == 403
    change = reverse("admin:fulfillment_backtestreport_change", args=[report.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"orders_considered": 9}).status_code == 403
    delete = reverse("admin:fulfillment_backtestreport_delete", args=[report.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:fulfillment_routingdecision_add")).status_code == 403
    assert BacktestReport.objects.filter(orders_considered=0).count() == 1


# --- the order page's "Routing" panel ---------------------------------------------------------


@pytest.fixture
def routed_order(maker, checker, network):
    """Routed under an active set keeping 2 units in stores: the NYC store (2 units) is out."""
    product = ProductFactory(sku="TEE")
    stocked(network["east"], product, on_hand=5)
    stocked(network["nyc"], product, on_hand=2)
    active(maker, checker, {"filters": {"store_min_stock": 2}})
    order = captured_order(skus=["TEE"], quantity=2)
    decision = route_order(order_id=order.pk, actor=Actor.system("test"))
    assert decision.outcome == "routed"
    return order


def test_order_page_shows_the_routing_panel(routed_order):
    client = client_for(superuser())

    response = client.get(reverse("admin:orders_order_change", args=[routed_order.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Routing" in content
    assert 'id="routing-panel"' in content
    assert content.index('id="order-timeline"') < content.index('id="routing-panel"')
    assert "Store store-nyc excluded: at minimum stock 2 for TEE (has 2)" in content
    assert "Line 1 (TEE) ×2 from" in content
    [decision] = response.context["routing_decisions"]
    assert decision["allocations"] == [{"line": "Line 1 (TEE)", "node": "dc-east", "quantity": 2}]
    rows = {row["code"]: row for row in decision["candidates"]}
    assert rows["dc-east"]["state"] == "chosen"
    assert rows["store-nyc"]["state"] == "excluded"
    assert rows["dc-west"]["state"] == "excluded"  # no stock there
    assert 'data-node="dc-east" data-state="chosen"' in content
    assert "Default routing v1 (active)" in content  # the rule set label
    assert decision["decision"].explanation[0] in content


def test_routing_panel_follows_the_view_decision_permission(routed_order):
    url = reverse("admin:orders_order_change", args=[routed_order.pk])

    cs = client_for(staff_user("cs", "customer_service")).get(url)
    finance = client_for(staff_user("fin", "finance")).get(url)

    assert 'id="routing-panel"' in cs.content.decode()
    assert "Store store-nyc excluded" in cs.content.decode()
    assert finance.status_code == 200
    assert 'id="routing-panel"' not in finance.content.decode()


def test_order_page_without_decisions_says_so(db):
    order = captured_order()

    response = client_for(superuser()).get(reverse("admin:orders_order_change", args=[order.pk]))

    assert "This order has not been routed yet." in response.content.decode()


def test_decision_list_searches_by_order_number(routed_order):
    captured_order(external_id="EXT-2")  # not routed: no decision
    client = client_for(superuser())
    url = reverse("admin:fulfillment_routingdecision_changelist")

    listing = client.get(url, {"q": routed_order.number})
    filtered = client.get(url, {"outcome": "rejected"})

    assert listing.status_code == 200
    [decision] = listing.context["cl"].result_list
    assert decision.order_id == routed_order.pk
    assert filtered.context["cl"].result_count == 0
    page = client.get(reverse("admin:fulfillment_routingdecision_change", args=[decision.pk]))
    assert page.status_code == 200
    assert "Store store-nyc excluded: at minimum stock 2 for TEE (has 2)" in page.content.decode()
    assert RoutingDecision.objects.count() == 1


def test_decision_page_of_a_large_network_says_what_was_not_stored(network):
    # given: 25 more stores without stock; only the chosen node and the 10 best-scored
    # excluded nodes are stored, every exclusion is counted
    for i in range(25):
        StoreFactory(code=f"store-{i:02d}")
    product = ProductFactory(sku="TEE")
    stocked(network["east"], product, on_hand=5)
    order = captured_order(skus=["TEE"], quantity=1)
    decision = route_order(order_id=order.pk, actor=Actor.system("test"))

    # when
    page = client_for(superuser()).get(
        reverse("admin:fulfillment_routingdecision_change", args=[decision.pk])
    )

    # then
    content = page.content.decode()
    view = page.context["routing_decision"]
    assert view["candidates_total"] == 28
    assert view["candidates_not_shown"] == 17
    assert view["exclusion_counts"] == [{"filter": "no_stock", "nodes": 27}]
    assert len(view["candidates"]) == 11
    assert view["candidates"][0]["state"] == "chosen"
    assert "Showing 11 of 28 nodes" in content
    assert '<span data-exclusion="no_stock">no_stock 27</span>' in content


def test_a_decision_that_stored_every_candidate_still_shows_counts(routed_order):
    # given: a decision written before the compact form (every candidate, no counts)
    decision = RoutingDecision.objects.get(order=routed_order)
    attempt = decision.plan["attempts"][0]
    counts = attempt.pop("exclusion_counts")
    for key in ("candidates_total", "candidates_eligible"):
        attempt.pop(key)
    RoutingDecision.objects.filter(pk=decision.pk).update(plan={"attempts": [attempt]})

    # when
    page = client_for(superuser()).get(
        reverse("admin:fulfillment_routingdecision_change", args=[decision.pk])
    )

    # then
    view = page.context["routing_decision"]
    assert view["candidates_total"] == 3
    assert view["candidates_not_shown"] == 0
    # store-nyc: at minimum stock, so no usable stock either; dc-west: no stock
    assert view["exclusion_counts"] == [
        {"filter": "no_stock", "nodes": 2},
        {"filter": "store_min_stock", "nodes": 1},
    ]
    assert counts == {"no_stock": 2, "store_min_stock": 1}  # what the compact form stores
