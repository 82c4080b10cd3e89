from datetime import timedelta

import pytest
from django.utils import timezone

from oms.core.models import RuleSetStatus
from oms.events.models import Event
from ops.exceptions import OpsRefused
from ops.models import CaseStatus, ExceptionCase, ExceptionRuleSet
from ops.selectors import cases_for_staff
from ops.services.cases import assign_case, dismiss_case, raise_exception_case
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    submit_exception_rule_set,
)
from tests.factories.orders import ChannelFactory, captured_order

pytestmark = pytest.mark.django_db


def _types(order):
    return list(Event.objects.for_stream(order.stream).values_list("type", flat=True))


def test_a_case_is_routed_by_the_first_matching_rule_of_the_active_set(active_rules):
    big = captured_order(external_id="BIG", unit_price="600.00")
    small = captured_order(external_id="SMALL", unit_price="20.00")
    before = timezone.now()

    big_case = raise_exception_case(kind="payment_failed", order=big, summary="declined")
    small_case = raise_exception_case(kind="payment_failed", order=small, summary="declined")

    assert (big_case.queue.code, big_case.priority) == ("payments", "p1")
    assert (small_case.queue.code, small_case.priority) == ("payments", "p2")
    assert (
        before + timedelta(minutes=30)
        <= big_case.sla_due_at
        <= timezone.now() + timedelta(minutes=30)
    )
    assert big_case.sla_due_at - big_case.raised_at == timedelta(minutes=30)
    assert small_case.sla_due_at - small_case.raised_at == timedelta(minutes=120)
    assert big_case.rule_label == "Ops routing v1 (active) rule #1"
    assert big_case.order_id == big.pk
    assert big_case.subject_label == big.number
    raised = Event.objects.for_stream(big.stream).get(type="exception.raised")
    assert raised.payload["queue"] == "payments"
    assert raised.payload["priority"] == "p1"


def test_channel_criteria_and_the_default_queue(active_rules):
    web = captured_order(channel=ChannelFactory(code="web"), external_id="W")
    pos = captured_order(channel=ChannelFactory(code="pos"), external_id="P")

    web_case = raise_exception_case(kind="node_rejected", order=web, summary="no")
    pos_case = raise_exception_case(kind="node_rejected", order=pos, summary="no")

    assert (web_case.queue.code, web_case.priority) == ("warehouse", "p2")
    assert (pos_case.queue.code, pos_case.priority, pos_case.rule_label) == ("ops", "p3", "default")
    assert pos_case.sla_due_at - pos_case.raised_at == timedelta(minutes=240)


def test_without_an_active_set_cases_go_to_ops_p3_240():
    order = captured_order()

    case = raise_exception_case(kind="stuck_order", order=order, summary="stuck")

    assert (case.queue.code, case.priority) == ("ops", "p3")
    assert case.sla_due_at - case.raised_at == timedelta(minutes=240)


def test_raising_twice_keeps_one_open_case_and_records_nothing_twice():
    order = captured_order()

    first = raise_exception_case(kind="stuck_order", order=order, summary="a", details={"x": 1})
    second = raise_exception_case(kind="stuck_order", order=order, summary="b", details={"y": 2})

    assert second.pk == first.pk
    case = ExceptionCase.objects.get()
    assert (case.occurrences, case.summary, case.details) == (2, "b", {"x": 1, "y": 2})
    assert _types(order).count("exception.raised") == 1


def test_a_closed_case_lets_a_new_one_open(author):
    order = captured_order()
    first = raise_exception_case(kind="stuck_order", order=order, summary="a")
    dismiss_case(case_id=first.pk, user=author, note="fine")

    second = raise_exception_case(kind="stuck_order", order=order, summary="again")

    assert second.pk != first.pk
    assert _types(order).count("exception.raised") == 2
    assert "exception.dismissed" in _types(order)


def test_sla_breach_is_flagged_for_unresolved_cases_only(author):
    order = captured_order()
    late = raise_exception_case(kind="stuck_order", order=order, summary="late")
    on_time = raise_exception_case(kind="payment_failed", order=order, summary="ok")
    done = raise_exception_case(kind="fraud_hold", order=order, summary="done")
    dismiss_case(case_id=done.pk, user=author)
    later = timezone.now() + timedelta(minutes=241)
    ExceptionCase.objects.filter(pk=on_time.pk).update(sla_due_at=later + timedelta(hours=1))

    flags = dict(cases_for_staff(now=later).values_list("pk", "sla_breached"))

    assert flags == {late.pk: True, on_time.pk: False, done.pk: False}
    assert list(ExceptionCase.objects.sla_breached(later)) == [late]


def test_assigning_moves_the_case_in_progress_with_an_event(author):
    order = captured_order()
    case = raise_exception_case(kind="stuck_order", order=order, summary="x")

    assign_case(case_id=case.pk, assignee=author, user=author)

    case.refresh_from_db()
    assert (case.status, case.assignee) == (CaseStatus.IN_PROGRESS, author)
    assigned = Event.objects.for_stream(order.stream).get(type="exception.assigned")
    assert assigned.payload["assignee"] == "rule-author"


def test_node_cases_use_their_own_stream():
    from tests.factories.inventory import NodeFactory

    node = NodeFactory(code="dc-east")
    case = raise_exception_case(kind="oversell", node=node, summary="short")

    assert case.order_id is None
    assert case.subject_label == "dc-east"
    assert list(
        Event.objects.for_stream(f"exception:{case.pk}").values_list("type", flat=True)
    ) == ["exception.raised"]


def test_rule_sets_refuse_self_approval_and_keep_one_active(author, checker):
    first = create_exception_rule_set(name="A", author=author, rules=[{"queue": "ops"}])
    submit_exception_rule_set(rule_set_id=first.pk, user=author)

    with pytest.raises(OpsRefused) as refused:
        approve_exception_rule_set(rule_set_id=first.pk, approver=author)

    assert refused.value.code == "self_approval_forbidden"
    approve_exception_rule_set(rule_set_id=first.pk, approver=checker)
    second = create_exception_rule_set(name="B", author=checker, rules=[{"queue": "ops"}])
    submit_exception_rule_set(rule_set_id=second.pk, user=checker)
    with pytest.raises(OpsRefused):
        approve_exception_rule_set(rule_set_id=second.pk, approver=checker)
    approve_exception_rule_set(rule_set_id=second.pk, approver=author)

    statuses = dict(ExceptionRuleSet.objects.values_list("version", "status"))
    assert statuses == {1: RuleSetStatus.RETIRED, 2: RuleSetStatus.ACTIVE}
    assert second.rules.get().priority == "p3"
