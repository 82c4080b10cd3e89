"""The console in the admin: the queue with the SLA filter, a remedy from the page, and the
order page's "Where is this order and why" panel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.services.feedback import reject_fulfillment
from oms.core.actors import Actor
from ops.models import ExceptionCase
from ops.services.cases import raise_exception_case
from ops.timeline import order_trace
from tests.factories.orders import captured_order
from tests.factories.users import PASSWORD, superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    superuser("ops-admin")
    client.login(username="ops-admin", password=PASSWORD)
    return client


def test_queue_lists_cases_and_filters_breached_slas(admin_client):
    late = raise_exception_case(
        kind="stuck_order", order=captured_order(external_id="A"), summary="x"
    )
    fine = raise_exception_case(
        kind="stuck_order", order=captured_order(external_id="B"), summary="y"
    )
    ExceptionCase.objects.filter(pk=late.pk).update(
        sla_due_at=timezone.now() - timedelta(minutes=1)
    )

    everything = admin_client.get("/admin/ops/exceptioncase/")
    breached = admin_client.get("/admin/ops/exceptioncase/?sla_breached=yes")

    assert everything.status_code == 200
    assert late.subject_label in breached.text
    assert fine.subject_label not in breached.text


def test_assign_from_the_case_page(admin_client):
    case = raise_exception_case(kind="stuck_order", order=captured_order(), summary="x")

    response = admin_client.post(
        f"/admin/ops/exceptioncase/{case.pk}/assign_to_me_detail/",
        {"_form_submitted": "True", "note": ""},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert case.assignee.username == "ops-admin"


def test_the_order_page_answers_where_and_why(admin_client, released):  # noqa: F811
    reject_fulfillment(fulfillment_id=released.pk, reason="no staff", actor=Actor.system("n"))

    trace = order_trace(released.order)
    page = admin_client.get(f"/admin/orders/order/{released.order_id}/change/")

    sources = {entry.source for entry in trace}
    assert {"event", "routing", "exception"} <= sources
    assert [e.at for e in trace] == sorted(e.at for e in trace)
    assert 'id="order-timeline"' in page.text
    assert "Node rejected" in page.text  # the open case in the header
    assert "rejected at" in page.text  # the timeline's sentence for fulfillment.rejected


def test_editing_a_draft_in_the_admin_goes_through_the_service_and_makes_you_its_author(
    admin_client, author
):
    """Maker-checker: whoever shapes a draft's rules in the admin cannot then approve it."""
    import re

    from oms.core.models import RuleSetStatus
    from oms.events.models import Event
    from ops.exceptions import OpsRefused
    from ops.models import ExceptionRuleSet, Queue
    from ops.services.rulesets import (
        approve_exception_rule_set,
        create_exception_rule_set,
        submit_exception_rule_set,
    )

    # given: someone else's draft with no rules
    draft = create_exception_rule_set(name="Draft", rules=[], author=author, key="draft")
    queue = Queue.objects.get_or_create(code="warehouse", defaults={"name": "Warehouse"})[0]
    url = f"/admin/ops/exceptionruleset/{draft.pk}/change/"
    page = admin_client.get(url).content.decode()
    prefix = re.search(r'name="([\w-]+)-TOTAL_FORMS"', page).group(1)

    # when: the ops admin adds a rule through the inline and saves
    response = admin_client.post(
        url,
        {
            "key": "draft",
            "name": "Draft, edited",
            "description": "",
            "thresholds": "{}",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-position": "1",
            f"{prefix}-0-kind": "node_rejected",
            f"{prefix}-0-queue": str(queue.pk),
            f"{prefix}-0-priority": "p2",
            f"{prefix}-0-sla_minutes": "60",
        },
    )

    # then: saved by the service, and the editor now counts as the author
    assert response.status_code == 302
    draft = ExceptionRuleSet.objects.get(pk=draft.pk)
    assert draft.name == "Draft, edited"
    assert [(r.kind, r.queue.code, r.sla_minutes) for r in draft.rules.all()] == [
        ("node_rejected", "warehouse", 60)
    ]
    assert draft.created_by.username == "ops-admin"
    submit_exception_rule_set(rule_set_id=draft.pk, user=author)
    with pytest.raises(OpsRefused) as caught:
        approve_exception_rule_set(rule_set_id=draft.pk, approver=draft.created_by)
    assert caught.value.code == "self_approval_forbidden"
    assert ExceptionRuleSet.objects.get(pk=draft.pk).status == RuleSetStatus.PENDING_APPROVAL
    assert (
        Event.objects.filter(stream="exception_rules:draft", type="exception_rules.created").count()
        == 1
    )


def test_adding_a_rule_set_in_the_admin_creates_a_numbered_version_with_its_event(admin_client):
    from oms.events.models import Event
    from ops.models import ExceptionRuleSet

    page = admin_client.get("/admin/ops/exceptionruleset/add/").content.decode()
    import re

    prefix = re.search(r'name="([\w-]+)-TOTAL_FORMS"', page).group(1)

    response = admin_client.post(
        "/admin/ops/exceptionruleset/add/",
        {
            "key": "default",
            "name": "New rules",
            "description": "",
            "thresholds": "{}",
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302
    created = ExceptionRuleSet.objects.get(name="New rules")
    assert created.created_by.username == "ops-admin"
    assert Event.objects.filter(stream=created.stream, type="exception_rules.created").count() == 1
