"""The console in the admin: the queue with the SLA filter, a remedy from the page, and the
order page's "Where is this order and why" panel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.services.feedback import reject_fulfillment
from oms.core.actors import Actor
from oms.ops.models import ExceptionCase
from oms.ops.services.cases import raise_exception_case
from oms.ops.timeline import order_trace
from tests.factories.orders import captured_order
from tests.factories.users import PASSWORD, superuser
from tests.ops.test_hooks_and_remedies import released, two_nodes  # noqa: F401

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
    assert "Where is this order and why" in page.text
    assert "Node rejected" in page.text
