"""Refunds computed from what came back, paid through the payments service: fees, shipping,
tax, caps, declines and retries, appeasements with a limit per role; exchanges."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from oms.core.errors import DomainError
from oms.events.models import Event
from ops.models import ExceptionCase
from orders.models import PaymentTransaction
from orders.payments import script_simulated_payment
from orders.selectors import payment_summary
from returns.models import Exchange, Refund, Return
from returns.policy import RequestedLine, appeasement_roles_of, create_return_policy
from returns.services.exchanges import charge_overdue_exchange
from returns.services.receipt import inspect_return, receive_return
from returns.services.refunds import appease, refund_return, retry_refund
from returns.services.requests import ReturnRequest, request_return
from returns.services.sweeper import GRACE, find_due_refunds
from returns.tasks import sweep_returns_task
from tests.factories.inventory import ProductFactory, stocked
from tests.returns.support import SYSTEM, ledger, shipped_order, stock

pytestmark = pytest.mark.django_db


def _inspected(order, node, dispositions, *, quantity, reason="changed_mind", on_commit):
    with on_commit(execute=True):
        rma = request_return(
            order_id=order.pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, quantity, reason, "opened")], authorize=True
            ),
            actor=SYSTEM,
        )
        receive_return(return_id=rma.pk, node_id=node.pk, actor=SYSTEM)
        inspect_return(return_id=rma.pk, dispositions={1: dispositions}, actor=SYSTEM)
    rma.refresh_from_db()
    return rma


def test_a_damaged_return_is_refunded_less_the_restocking_fee_and_not_restocked(
    nodes, web_channel, django_capture_on_commit_callbacks
):
    # given: 2 × 40.00 + 3.20 tax each, 6.00 shipping; a 15 % restocking fee
    create_return_policy(channel=web_channel, terms={"restocking_fee_percent": "15"}, actor=SYSTEM)
    order = shipped_order(
        nodes["dc"],
        external_id="F1",
        lines=[("COAT", 2, "40.00")],
        tax="6.40",
        shipping_total="6.00",
    )
    assert payment_summary(order).captured == Decimal("92.40")

    # when: both come back, one damaged; the refund runs on commit after inspection
    rma = _inspected(
        order,
        nodes["dc"],
        {"restock": 1, "damaged": 1},
        quantity=2,
        on_commit=django_capture_on_commit_callbacks,
    )

    # then: 80.00 + 6.40 tax + 6.00 shipping (everything came back) − 6.00 fee (15 % of 40.00)
    [refund] = Refund.objects.filter(rma=rma)
    assert refund.status == "succeeded"
    assert refund.amount == Decimal("86.40")
    assert refund.breakdown["restocking_fee"] == "6.00"
    assert refund.breakdown["shipping"] == "6.00"
    assert refund.breakdown["tax"] == "6.40"
    assert rma.status == "closed"
    assert stock(nodes["dc"], "COAT") == (9, 0)
    assert ledger(nodes["dc"], "COAT", "return_restock") == [1]
    assert payment_summary(order).refunded == Decimal("86.40")
    assert payment_summary(order).refundable == Decimal("6.00")
    assert [
        e.type for e in Event.objects.filter(stream=order.stream, type__startswith="refund.")
    ] == ["refund.requested", "refund.succeeded"]


def test_a_second_refund_of_the_same_return_refunds_nothing_more(
    nodes, django_capture_on_commit_callbacks
):
    order = shipped_order(nodes["dc"], external_id="F2", lines=[("TEE", 1, "20.00")])
    rma = _inspected(
        order, nodes["dc"], {"restock": 1}, quantity=1, on_commit=django_capture_on_commit_callbacks
    )

    with pytest.raises(DomainError) as refused:
        refund_return(return_id=rma.pk, actor=SYSTEM)

    assert refused.value.code == "nothing_to_refund"
    assert Refund.objects.count() == 1
    assert PaymentTransaction.objects.filter(kind="refund").count() == 1


def test_a_declined_refund_raises_a_case_and_is_refunded_once_after_a_retry(
    nodes, django_capture_on_commit_callbacks
):
    order = shipped_order(nodes["dc"], external_id="F3", lines=[("TEE", 1, "20.00")])
    script_simulated_payment(order_number=order.number, kind="refund", outcome="decline")

    rma = _inspected(
        order, nodes["dc"], {"restock": 1}, quantity=1, on_commit=django_capture_on_commit_callbacks
    )
    [refund] = Refund.objects.filter(rma=rma)
    assert (refund.status, refund.error_code) == ("failed", "card_declined")
    assert rma.status == "inspected"
    [case] = ExceptionCase.objects.filter(kind="payment_failed")
    assert case.status == "open"

    again = retry_refund(refund_id=refund.pk, actor=SYSTEM)
    case.refresh_from_db()
    # the retry's success resolves the case at once (no detector run)
    assert (case.status, case.resolution_note) == ("resolved", "Refund retried and succeeded")
    with pytest.raises(DomainError) as nothing_left:
        refund_return(return_id=rma.pk, actor=SYSTEM)

    rma.refresh_from_db()
    assert nothing_left.value.code == "nothing_to_refund"
    assert again.status == "succeeded"
    assert again.attempts == 2
    assert rma.status == "closed"
    assert payment_summary(order).refunded == Decimal("20.00")
    assert list(
        PaymentTransaction.objects.filter(kind="refund")
        .order_by("id")
        .values_list("status", flat=True)
    ) == ["failed", "succeeded"]


def test_an_appeasement_is_limited_per_role(nodes):
    order = shipped_order(nodes["dc"], external_id="F4", lines=[("TEE", 2, "20.00")])

    with pytest.raises(DomainError) as refused:
        appease(
            order_id=order.pk,
            amount=Decimal("30.00"),
            reason_code="late_delivery",
            note="",
            actor=SYSTEM,
            roles=["customer_service"],
        )
    done = appease(
        order_id=order.pk,
        amount=Decimal("30.00"),
        reason_code="late_delivery",
        note="two weeks late",
        actor=SYSTEM,
        roles=["customer_service", "finance"],
        idempotency_key="goodwill-1",
    )
    repeated = appease(
        order_id=order.pk,
        amount=Decimal("30.00"),
        reason_code="late_delivery",
        note="two weeks late",
        actor=SYSTEM,
        roles=["finance"],
        idempotency_key="goodwill-1",
    )

    assert refused.value.code == "appeasement_over_limit"
    assert refused.value.detail == "30.00 USD is over your appeasement limit of 25.00 USD."
    assert (done.status, done.amount, done.kind) == ("succeeded", Decimal("30.00"), "appeasement")
    assert repeated.pk == done.pk
    assert payment_summary(order).refunded == Decimal("30.00")


def test_a_staff_users_appeasement_roles_are_their_groups_that_name_a_role(django_user_model):
    agent = django_user_model.objects.create_user("agent", password="x")
    agent.groups.add(
        Group.objects.get_or_create(name="customer_service")[0],
        Group.objects.get_or_create(name="warehouse")[0],
    )
    nobody = django_user_model.objects.create_user("nobody", password="x")
    admin = django_user_model.objects.create_superuser("root", password="x")

    assert appeasement_roles_of(agent) == ["customer_service"]
    assert appeasement_roles_of(nobody) == []
    assert appeasement_roles_of(admin) == ["customer_service", "finance", "ops_admin", "api_client"]


def test_an_even_exchange_places_a_replacement_order_at_no_charge(
    nodes, django_capture_on_commit_callbacks
):
    order = shipped_order(nodes["dc"], external_id="F5", lines=[("TEE-M", 1, "20.00")])
    stocked(nodes["dc"], ProductFactory(sku="TEE-L"), on_hand=10)

    with django_capture_on_commit_callbacks(execute=True):
        rma = request_return(
            order_id=order.pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, 1, "size_fit", "unopened", exchange_sku="TEE-L")],
                exchange_kind="even",
                authorize=True,
            ),
            actor=SYSTEM,
        )
        receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)

    exchange = Exchange.objects.get(rma=rma)
    replacement = exchange.replacement_order
    rma.refresh_from_db()
    assert exchange.status == "completed"
    assert replacement.channel_id == order.channel_id
    assert replacement.grand_total == Decimal("0")
    assert replacement.payment_status == "paid"
    assert [(line.sku, line.quantity) for line in replacement.lines.all()] == [("TEE-L", 1)]
    assert replacement.status == "released"  # routed like any order
    assert rma.status == "closed"
    assert not Refund.objects.exists()
    assert stock(nodes["dc"], "TEE-M") == (10, 0)
    assert stock(nodes["dc"], "TEE-L") == (10, 1)  # reserved for the replacement, not shipped


def test_an_advance_exchange_never_returned_is_charged_once(
    nodes, django_capture_on_commit_callbacks
):
    order = shipped_order(nodes["dc"], external_id="F6", lines=[("TEE", 2, "20.00")], tax="3.00")
    with django_capture_on_commit_callbacks(execute=True):
        rma = request_return(
            order_id=order.pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, 1, "defective", "used")],
                exchange_kind="advance",
                authorize=True,
            ),
            actor=SYSTEM,
        )
    exchange = Exchange.objects.get(rma=rma)
    assert exchange.status == "replacement_placed"
    assert exchange.value == Decimal("21.50")
    Exchange.objects.filter(pk=exchange.pk).update(due_at=timezone.now() - timedelta(minutes=1))

    charge_overdue_exchange(exchange_id=exchange.pk)
    charge_overdue_exchange(exchange_id=exchange.pk)

    exchange.refresh_from_db()
    rma.refresh_from_db()
    replacement = exchange.replacement_order
    assert exchange.status == "charged"
    assert rma.status == "closed"
    assert payment_summary(replacement).captured == Decimal("21.50")
    assert PaymentTransaction.objects.filter(order=replacement, kind="capture").count() == 1


def test_the_sweep_refunds_an_inspected_return_whose_refund_task_was_lost_once(nodes):
    """Inspection commits and its refund task is lost (its on-commit callback never runs): the
    hourly sweep refunds it after the grace period, and a second sweep sends nothing more."""
    order = shipped_order(nodes["dc"], external_id="F9", lines=[("TEE", 2, "20.00")])
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, 1, "changed_mind", "opened")], authorize=True
        ),
        actor=SYSTEM,
    )
    receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
    inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)
    assert not Refund.objects.filter(rma=rma).exists()

    assert find_due_refunds() == []  # within the grace period: its task may still run
    assert find_due_refunds(now=timezone.now() + GRACE + timedelta(minutes=1)) == [rma.pk]
    Return.objects.filter(pk=rma.pk).update(inspected_at=timezone.now() - GRACE * 2)

    assert sweep_returns_task() == {"exchanges_checked": 0, "refunds_sent": 1}
    assert sweep_returns_task() == {"exchanges_checked": 0, "refunds_sent": 0}

    refund = Refund.objects.get(rma=rma)
    assert (refund.status, refund.amount) == ("succeeded", Decimal("20.00"))
    assert payment_summary(order).refunded == Decimal("20.00")
