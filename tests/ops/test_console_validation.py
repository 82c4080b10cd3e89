"""The console refuses bad configuration in words and never crashes on it; remedies fit the case;
customer service finds an order by what the customer quotes."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import accept_fulfillment, pack_fulfillment
from fulfillment.services.shipping import Package, ship_fulfillment
from inventory.models import Node
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.core.models import RuleSetStatus
from ops.models import CaseStatus, ExceptionCase, ExceptionRuleSet
from ops.remedy_rules import offered
from ops.services import remedies
from ops.services.cases import raise_exception_case
from ops.services.detectors import run_detectors
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    submit_exception_rule_set,
)
from tests.factories.inventory import NodeFactory
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from tests.ops.conftest import released  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
NODE = Actor.system("dc-east")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- rule sets: one schema at submit and at approval; the detector never crashes ---------------


def test_a_rule_set_with_words_for_numbers_is_refused_in_words(author):
    with pytest.raises(DomainError) as refused:
        create_exception_rule_set(
            name="bad", rules=[], author=author, thresholds={"backorder_days": "three"}
        )

    assert refused.value.code == "rule_set_invalid"
    assert "backorder_days: a whole number is needed, got 'three'" in refused.value.detail


def test_min_order_value_above_max_is_refused(author):
    with pytest.raises(DomainError) as refused:
        create_exception_rule_set(
            name="bad",
            author=author,
            rules=[{"queue": "ops", "min_order_value": "500", "max_order_value": "10"}],
        )

    assert "minimum order value (500) is above the maximum (10)" in refused.value.detail


def test_an_invalid_rule_set_cannot_be_approved(author, checker):
    """A draft made invalid behind the service's back (an old row, a bulk load) is refused at
    submit and at approval alike, so it never becomes active."""
    rule_set = create_exception_rule_set(name="ok", rules=[], author=author)
    ExceptionRuleSet.objects.filter(pk=rule_set.pk).update(thresholds={"backorder_days": "three"})

    with pytest.raises(DomainError) as at_submit:
        submit_exception_rule_set(rule_set_id=rule_set.pk, user=author)
    assert at_submit.value.code == "rule_set_invalid"

    ExceptionRuleSet.objects.filter(pk=rule_set.pk).update(thresholds={})
    submit_exception_rule_set(rule_set_id=rule_set.pk, user=author)
    ExceptionRuleSet.objects.filter(pk=rule_set.pk).update(thresholds={"feed_stale_hours": -1})
    with pytest.raises(DomainError) as at_approval:
        approve_exception_rule_set(rule_set_id=rule_set.pk, approver=checker)

    assert at_approval.value.code == "rule_set_invalid"
    assert ExceptionRuleSet.objects.get(pk=rule_set.pk).status == RuleSetStatus.PENDING_APPROVAL


def test_a_detector_facing_broken_config_raises_a_case_instead_of_crashing(active_rules):
    # an active set whose thresholds went bad (written before the schema, or by hand)
    ExceptionRuleSet.objects.filter(pk=active_rules.pk).update(
        thresholds={"backorder_days": "three"}
    )

    counts = run_detectors()  # no ValueError

    assert counts["config_invalid"] == 1
    case = ExceptionCase.objects.get(kind="config_invalid")
    assert case.subject_type == "rule_set"
    assert "backorder_days" in case.summary
    assert run_detectors()["config_invalid"] == 1  # the same case, refreshed
    assert ExceptionCase.objects.filter(kind="config_invalid").count() == 1

    ExceptionRuleSet.objects.filter(pk=active_rules.pk).update(thresholds={"backorder_days": 5})
    run_detectors()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_the_rule_set_form_says_what_is_wrong(author):
    client = client_for(author)

    response = client.post(
        "/admin/ops/exceptionruleset/add/",
        {
            "key": "default",
            "name": "typo",
            "description": "",
            "thresholds": '{"backorder_days": "three"}',
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-position": "1",
            "rules-0-kind": "",
            "rules-0-channel_code": "",
            "rules-0-node_code": "",
            "rules-0-min_order_value": "500",
            "rules-0-max_order_value": "10",
            "rules-0-priority": "p3",
            "rules-0-sla_minutes": "240",
        },
    )

    assert response.status_code == 200  # the form again, nothing saved
    page = response.content.decode()
    assert "a whole number is needed, got &#x27;three&#x27;" in page
    assert "The maximum (10) is below the minimum (500)" in page
    assert not ExceptionRuleSet.objects.filter(name="typo").exists()


# --- remedies fit the case ---------------------------------------------------------------------


def test_remedies_are_offered_per_kind(released):  # noqa: F811
    short = raise_exception_case(kind="short_pick", fulfillment=released, summary="short")
    locked = raise_exception_case(kind="pickup_locked", fulfillment=released, summary="x")

    assert offered(short) == ["assign_to_me", "resolve", "dismiss", "reroute"]
    assert "mark_lost" not in offered(short)
    assert "unlock_pickup" in offered(locked)
    assert "reroute" not in offered(locked)


def test_mark_lost_on_a_short_pick_is_refused(released):  # noqa: F811
    ops = superuser("olga")
    case = raise_exception_case(kind="short_pick", fulfillment=released, summary="short")

    with pytest.raises(DomainError) as refused:
        remedies.mark_parcel(case_id=case.pk, user=ops, outcome="lost")

    assert refused.value.code == "remedy_not_applicable"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    # and the page does not offer it: its dialog answers 403
    client = client_for(ops)
    url = reverse("admin:ops_exceptioncase_mark_lost_detail", args=[case.pk])
    assert client.get(url).status_code == 403
    page = client.get(reverse("admin:ops_exceptioncase_change", args=[case.pk])).content.decode()
    assert "Mark lost" not in page
    assert "Reroute" in page
    assert "Resolve" in page
    assert "Dismiss" in page


def test_the_case_page_shows_details_as_rows_not_json(released):  # noqa: F811
    ops = superuser("olga")
    case = raise_exception_case(
        kind="stuck_order",
        order=released.order,
        summary="stuck",
        details={
            "idle_minutes": 95,
            "skus": [{"sku": "TEE<b>", "waiting": 2}, {"sku": "MUG", "waiting": 1}],
        },
    )
    empty = raise_exception_case(kind="short_pick", fulfillment=released, summary="short")

    page = client_for(ops).get(reverse("admin:ops_exceptioncase_change", args=[case.pk]))
    html = page.content.decode()

    assert '<dt class="font-medium">Idle minutes</dt><dd>95</dd>' in html
    assert '<th class="px-2 py-1 text-left">Waiting</th>' in html
    assert "TEE&lt;b&gt;" in html  # escaped, never markup
    assert "{&quot;" not in html
    assert '{"idle_minutes"' not in html
    empty_page = client_for(ops).get(reverse("admin:ops_exceptioncase_change", args=[empty.pk]))
    assert "{}" not in empty_page.content.decode().split("Details", 1)[1][:400]


def test_cases_default_to_open(released):  # noqa: F811
    ops = superuser("olga")
    open_case = raise_exception_case(kind="short_pick", fulfillment=released, summary="open one")
    closed = raise_exception_case(kind="stuck_order", order=released.order, summary="closed one")
    remedies.resolve_case(case_id=closed.pk, user=ops, note="done")
    client = client_for(ops)

    default = client.get(reverse("admin:ops_exceptioncase_changelist")).content.decode()
    everything = client.get(
        reverse("admin:ops_exceptioncase_changelist") + "?state=all"
    ).content.decode()

    assert open_case.subject_label in default
    assert "closed one" not in default
    assert f">{closed.pk}<" in everything


# --- search by what the customer quotes --------------------------------------------------------


def test_customer_service_finds_an_order_by_tracking_fulfillment_sku_or_phone(released):  # noqa: F811
    accept_fulfillment(fulfillment_id=released.pk, actor=NODE)
    pack_fulfillment(fulfillment_id=released.pk, actor=NODE)
    ship_fulfillment(
        fulfillment_id=released.pk,
        packages=[Package(carrier="UPS", tracking_number="1ZTRACK777")],
        actor=NODE,
    )
    other = captured_order(external_id="OTHER", customer_phone="+1 555 0100")
    client = client_for(superuser())
    url = reverse("admin:orders_order_changelist")

    def found(q: str) -> set[str]:
        response = client.get(url, {"q": q})
        return {order.number for order in response.context["cl"].result_list}

    number = released.order.number
    assert found("1ZTRACK777") == {number}
    assert found(FulfillmentOrder.objects.get(pk=released.pk).number) == {number}
    assert found("TEE") == {number}
    assert found("555 0100") == {other.number}
    page = client.get(reverse("admin:orders_order_change", args=[released.order_id]))
    assert "1ZTRACK777" in page.content.decode()
    assert "https://www.ups.com/track?tracknum=1ZTRACK777" in page.content.decode()


# --- clear errors in the admin -----------------------------------------------------------------


def test_webhook_event_type_typos_are_refused(settings):
    from webhooks.subscriptions import InvalidSubscription, clean_event_types

    assert clean_event_types(["order.created", "fulfillment.*", "*"]) == [
        "order.created",
        "fulfillment.*",
        "*",
    ]
    with pytest.raises(InvalidSubscription, match="not in the event catalogue"):
        clean_event_types(["order.creatd"])
    with pytest.raises(InvalidSubscription, match="not in the event catalogue"):
        clean_event_types(["ordr.*"])


def test_a_node_time_zone_is_chosen_and_coordinates_fail_in_words():
    node = NodeFactory(code="dc-east")
    client = client_for(superuser())
    url = reverse("admin:inventory_node_change", args=[node.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: form.initial.get(name, "")
        for name in form.fields
        if form.initial.get(name) is not None
    }
    data.update({"timezone": "Mars/Olympus_Mons", "latitude": "123", "longitude": "0"})
    data = {
        key: ("on" if value is True else value) for key, value in data.items() if value is not False
    }

    response = client.post(url, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice. Mars/Olympus_Mons is not one of the available choices." in page
    data["timezone"] = "America/Chicago"
    response = client.post(url, data)
    page = response.content.decode()
    assert "Latitude must be between -90 and 90" in page
    assert "node_coordinates_valid" not in page
    assert Node.objects.get(pk=node.pk).latitude != Decimal("123")


def test_a_refused_page_is_styled(client):
    from tests.factories.users import staff_user

    client.force_login(staff_user("cs", "customer_service"))

    response = client.get(reverse("admin:auth_user_changelist"))

    assert response.status_code == 403
    page = response.content.decode()
    assert "You do not have access to this page" in page
    assert "oms/console.css" in page
