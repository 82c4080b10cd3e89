"""Advance exchanges end to end through the services: the replacement ships before the return
arrives; back in time, its payment settles at zero and the delivered replacement completes;
never back, the sweep charges it exactly once. Exact money figures and events."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.labels import ship_with_carrier
from fulfillment.services.shipping import deliver_fulfillment
from oms.events.models import Event
from orders.models import Order, PaymentTransaction
from orders.selectors import payment_summary
from orders.services.payments import settle_payment_at_zero
from returns.models import Exchange, Refund
from returns.policy import RequestedLine
from returns.services.exchanges import charge_overdue_exchange
from returns.services.receipt import inspect_return, receive_return
from returns.services.requests import ReturnRequest, request_return
from returns.tasks import sweep_returns_task
from tests.returns.support import SYSTEM, shipped_order

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")


def _advance_exchange(nodes, external_id, on_commit):
    """2 × TEE at 20.00 with 3.00 tax on the line, shipped and captured (43.00); one comes
    back as an advance exchange worth 21.50."""
    order = shipped_order(
        nodes["dc"], external_id=external_id, lines=[("TEE", 2, "20.00")], tax="3.00"
    )
    with on_commit(execute=True):
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
    return order, rma, exchange, exchange.replacement_order


def _ship(replacement, on_commit):
    with on_commit(execute=True):
        for fo in FulfillmentOrder.objects.filter(order=replacement):
            ship_with_carrier(fulfillment_id=fo.pk, actor=SYSTEM)


def _deliver(replacement, on_commit):
    with on_commit(execute=True):
        for fo in FulfillmentOrder.objects.filter(order=replacement):
            deliver_fulfillment(fulfillment_id=fo.pk, actor=SYSTEM)
    replacement.refresh_from_db()


def _events(order, type_):
    return list(
        Event.objects.filter(stream=order.stream, type=type_)
        .order_by("seq")
        .values_list("payload", flat=True)
    )


def _money(order):
    summary = payment_summary(order)
    return (summary.authorized, summary.captured, summary.refunded, summary.voided)


def test_an_advance_exchange_returned_in_time_completes_its_replacement_at_no_charge(
    nodes, django_capture_on_commit_callbacks
):
    order, rma, exchange, replacement = _advance_exchange(
        nodes, "AX1", django_capture_on_commit_callbacks
    )
    assert (exchange.status, exchange.value) == ("replacement_placed", Decimal("21.50"))
    assert (replacement.grand_total, replacement.payment_status) == (ZERO, "authorized")

    # the replacement ships and is delivered before the return arrives: it waits, not paid
    _ship(replacement, django_capture_on_commit_callbacks)
    _deliver(replacement, django_capture_on_commit_callbacks)
    assert (replacement.status, replacement.payment_status) == ("delivered", "authorized")

    # when: the return arrives in time and is inspected
    with django_capture_on_commit_callbacks(execute=True):
        receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)

    # then: the replacement settled at zero and completed; the return closed; nothing charged
    replacement.refresh_from_db()
    exchange.refresh_from_db()
    rma.refresh_from_db()
    assert (replacement.status, replacement.payment_status) == ("completed", "paid")
    assert exchange.status == "completed"
    assert rma.status == "closed"
    assert _money(replacement) == (ZERO, ZERO, ZERO, ZERO)
    assert _money(order) == (Decimal("43.00"), Decimal("43.00"), ZERO, ZERO)
    assert PaymentTransaction.objects.filter(order=replacement).count() == 0
    assert not Refund.objects.exists()
    assert _events(replacement, "order.payment_settled") == [
        {
            "amount": "0.00",
            "currency": "USD",
            "released": "0.00",
            "captured": "0.00",
            "refunded": "0.00",
            "payment_status": "paid",
            "reason": f"advance exchange {rma.number} returned in time",
        }
    ]
    assert _events(replacement, "order.status_changed")[-1] == {
        "from": "delivered",
        "to": "completed",
    }
    assert _events(order, "exchange.completed") == [
        {
            "return": rma.number,
            "kind": "advance",
            "replacement_order": replacement.number,
            "charged": "0.00",
            "currency": "USD",
            "replacement_payment_status": "paid",
        }
    ]
    assert [p["settled_by"] for p in _events(order, "return.closed")] == ["exchange"]

    # and the window passing later charges nothing: neither the service nor the sweep
    Exchange.objects.filter(pk=exchange.pk).update(due_at=timezone.now() - timedelta(days=1))
    charge_overdue_exchange(exchange_id=exchange.pk)
    sweep_returns_task()
    assert PaymentTransaction.objects.filter(order=replacement).count() == 0
    assert _events(order, "exchange.charged") == []
    # settling again is a no-op
    assert settle_payment_at_zero(order_id=replacement.pk, actor=SYSTEM, reason="again") is None
    assert len(_events(replacement, "order.payment_settled")) == 1


def test_an_advance_exchange_back_before_the_replacement_is_delivered_completes_on_delivery(
    nodes, django_capture_on_commit_callbacks
):
    order, rma, exchange, replacement = _advance_exchange(
        nodes, "AX2", django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=True):
        receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
    replacement.refresh_from_db()
    assert (replacement.status, replacement.payment_status) == ("released", "paid")

    _ship(replacement, django_capture_on_commit_callbacks)
    _deliver(replacement, django_capture_on_commit_callbacks)

    assert (replacement.status, replacement.payment_status) == ("completed", "paid")
    assert _money(replacement) == (ZERO, ZERO, ZERO, ZERO)
    assert PaymentTransaction.objects.filter(order=replacement).count() == 0
    assert len(_events(replacement, "order.payment_settled")) == 1


def test_an_advance_exchange_never_returned_is_charged_once_and_its_replacement_completes(
    nodes, django_capture_on_commit_callbacks
):
    order, rma, exchange, replacement = _advance_exchange(
        nodes, "AX3", django_capture_on_commit_callbacks
    )
    _ship(replacement, django_capture_on_commit_callbacks)
    _deliver(replacement, django_capture_on_commit_callbacks)
    assert (replacement.status, replacement.payment_status) == ("delivered", "authorized")

    Exchange.objects.filter(pk=exchange.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert sweep_returns_task() == {"exchanges_checked": 1, "refunds_sent": 0}
    sweep_returns_task()
    charge_overdue_exchange(exchange_id=exchange.pk)

    replacement.refresh_from_db()
    exchange.refresh_from_db()
    rma.refresh_from_db()
    assert (replacement.status, replacement.payment_status) == ("completed", "paid")
    assert exchange.status == "charged"
    assert rma.status == "closed"
    assert _money(replacement) == (Decimal("21.50"), Decimal("21.50"), ZERO, ZERO)
    assert _money(order) == (Decimal("43.00"), Decimal("43.00"), ZERO, ZERO)
    assert sorted(
        PaymentTransaction.objects.filter(order=replacement).values_list("kind", "amount")
    ) == [("authorize", Decimal("21.50")), ("capture", Decimal("21.50"))]
    assert [p["amount"] for p in _events(order, "exchange.charged")] == ["21.50"]
    assert _events(replacement, "order.payment_settled") == []
    assert _events(order, "exchange.completed") == []
    assert [p["settled_by"] for p in _events(order, "return.closed")] == ["exchange_charged"]


def test_the_sweep_charges_the_other_overdue_exchanges_when_one_is_refused(
    nodes, django_capture_on_commit_callbacks
):
    """The first overdue exchange's replacement can no longer be charged (its payment voided):
    that refusal is logged, and the sweep still charges the next one and answers."""
    _, refused_rma, refused, refused_replacement = _advance_exchange(
        nodes, "AX5", django_capture_on_commit_callbacks
    )
    _, rma, exchange, replacement = _advance_exchange(
        nodes, "AX6", django_capture_on_commit_callbacks
    )
    Order.objects.filter(pk=refused_replacement.pk).update(payment_status="voided")
    Exchange.objects.filter(pk=refused.pk).update(due_at=timezone.now() - timedelta(hours=2))
    Exchange.objects.filter(pk=exchange.pk).update(due_at=timezone.now() - timedelta(hours=1))

    assert sweep_returns_task() == {"exchanges_checked": 2, "refunds_sent": 0}

    refused.refresh_from_db()
    refused_rma.refresh_from_db()
    exchange.refresh_from_db()
    rma.refresh_from_db()
    assert (refused.status, refused_rma.status) == ("replacement_placed", "authorized")
    assert (exchange.status, rma.status) == ("charged", "closed")
    assert PaymentTransaction.objects.filter(order=refused_replacement).count() == 0
