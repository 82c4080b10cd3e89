"""Payments: each operation idempotent by key, a transaction row per attempt, an event per
change, the simulated provider scripted through the database (a worker process sees it)."""

from decimal import Decimal

import pytest

from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from ops.models import ExceptionCase
from ops.services.reconcile import reconcile_open_cases
from orders.models import Order, PaymentStatus, PaymentTransaction, TransactionStatus
from orders.payments import script_simulated_payment
from orders.selectors import payment_summary
from orders.services.capture import LineInput
from orders.services.payments import (
    authorize_payment,
    capture_payment,
    refund_payment,
    settle_payment_at_zero,
    void_payment,
)
from tests.factories.inventory import ProductFactory
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

FINANCE = Actor.system("finance")
PAYMENT_EVENTS = [
    "order.payment_authorized",
    "order.payment_captured",
    "order.payment_failed",
    "order.payment_voided",
    "order.payment_refunded",
    "order.refund_failed",
    "order.payment_settled",
]


def _types(order):
    return list(
        Event.objects.filter(stream=order.stream, type__in=PAYMENT_EVENTS)
        .order_by("seq")
        .values_list("type", flat=True)
    )


@pytest.fixture
def paid(db):
    """A 3 × 10.00 order (30.00) with 30.00 captured."""
    order = captured_order(quantity=3)
    capture_payment(
        order_id=order.pk,
        amount=Decimal("30.00"),
        actor=FINANCE,
        idempotency_key="cap-1",
        settles_order=True,
    )
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    return order


def test_authorize_then_void_releases_the_authorization():
    order = captured_order(quantity=2)

    auth = authorize_payment(
        order_id=order.pk, amount=Decimal("20.00"), actor=FINANCE, idempotency_key="auth-1"
    )
    void = void_payment(
        order_id=order.pk, actor=FINANCE, reason="order cancelled", idempotency_key="void-1"
    )

    order.refresh_from_db()
    assert (auth.status, auth.provider_reference[:5]) == (TransactionStatus.SUCCEEDED, "auth_")
    assert (void.status, void.amount) == (TransactionStatus.SUCCEEDED, Decimal("20.00"))
    assert order.payment_status == PaymentStatus.VOIDED
    assert payment_summary(order).voided == Decimal("20.00")
    assert _types(order) == ["order.payment_authorized", "order.payment_voided"]


def test_void_is_refused_once_something_was_captured(paid):
    with pytest.raises(DomainError) as refused:
        void_payment(order_id=paid.pk, actor=FINANCE, reason="x", idempotency_key="void-1")

    assert refused.value.code == "payment_not_voidable"
    assert PaymentTransaction.objects.filter(order=paid, kind="void").count() == 0


def test_a_capture_replayed_with_its_key_returns_the_same_row(paid):
    again = capture_payment(
        order_id=paid.pk, amount=Decimal("30.00"), actor=FINANCE, idempotency_key="cap-1"
    )

    assert PaymentTransaction.objects.filter(order=paid).count() == 1
    assert again.pk == PaymentTransaction.objects.get(order=paid).pk
    assert _types(paid) == ["order.payment_captured"]


def test_a_capture_above_the_authorization_is_refused():
    order = captured_order(quantity=1)

    with pytest.raises(DomainError) as refused:
        capture_payment(
            order_id=order.pk, amount=Decimal("10.01"), actor=FINANCE, idempotency_key="c"
        )

    assert (refused.value.code, refused.value.extra) == (
        "capture_exceeds_authorized",
        {"capturable": "10.00"},
    )
    assert not PaymentTransaction.objects.exists()


def test_partial_refunds_up_to_what_was_captured(paid):
    refund_payment(
        order_id=paid.pk, amount=Decimal("12.50"), actor=FINANCE, reason="r1", idempotency_key="r1"
    )
    refund_payment(
        order_id=paid.pk, amount=Decimal("7.50"), actor=FINANCE, reason="r2", idempotency_key="r2"
    )
    with pytest.raises(DomainError) as refused:
        refund_payment(
            order_id=paid.pk,
            amount=Decimal("10.01"),
            actor=FINANCE,
            reason="r3",
            idempotency_key="r3",
        )

    summary = payment_summary(paid)
    assert refused.value.code == "refund_exceeds_captured"
    assert refused.value.extra == {"refundable": "10.00"}
    assert (summary.captured, summary.refunded, summary.refundable) == (
        Decimal("30.00"),
        Decimal("20.00"),
        Decimal("10.00"),
    )
    paid.refresh_from_db()
    assert paid.payment_status == PaymentStatus.PAID


def test_a_full_refund_makes_the_payment_refunded(paid):
    refund_payment(
        order_id=paid.pk, amount=Decimal("30.00"), actor=FINANCE, reason="all", idempotency_key="r"
    )

    paid.refresh_from_db()
    assert paid.payment_status == PaymentStatus.REFUNDED
    assert payment_summary(paid).refundable == Decimal("0.00")


def test_a_refund_at_more_minor_units_than_the_currency_has_is_refused(paid):
    with pytest.raises(DomainError) as refused:
        refund_payment(
            order_id=paid.pk, amount=Decimal("1.001"), actor=FINANCE, reason="", idempotency_key="r"
        )

    assert refused.value.code == "validation_failed"
    assert refused.value.errors[0].code == "invalid_amount"


def test_a_declined_refund_raises_a_case_and_the_same_key_retries_once_fixed(paid):
    script_simulated_payment(order_number=paid.number, kind="refund", outcome="decline")

    first = refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="late", idempotency_key="k"
    )
    case = ExceptionCase.objects.get(order=paid)
    second = refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="late", idempotency_key="k"
    )
    third = refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="late", idempotency_key="k"
    )

    assert (first.status, first.error_code, first.attempt) == ("failed", "card_declined", 1)
    assert (second.status, second.attempt) == ("succeeded", 2)
    assert second.provider_idempotency_key == "k#2"
    assert third.pk == second.pk
    assert (case.kind, case.details["operation"], case.details["code"]) == (
        "payment_failed",
        "refund",
        "card_declined",
    )
    assert payment_summary(paid).refunded == Decimal("5.00")
    assert _types(paid) == [
        "order.payment_captured",
        "order.refund_failed",
        "order.payment_refunded",
    ]


def test_a_refund_the_provider_did_not_answer_is_resumed_with_the_same_provider_key(paid):
    script_simulated_payment(order_number=paid.number, kind="refund", outcome="timeout")

    first = refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key="k"
    )
    refundable_meanwhile = payment_summary(paid).refundable
    second = refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key="k"
    )

    assert (first.status, first.error_code) == ("pending", "provider_unavailable")
    assert refundable_meanwhile == Decimal("25.00")  # in flight counts as spent
    assert (second.pk, second.status, second.provider_idempotency_key) == (
        first.pk,
        "succeeded",
        "k",
    )
    assert PaymentTransaction.objects.filter(kind="refund").count() == 1
    assert ExceptionCase.objects.filter(order=paid, kind="payment_failed").count() == 1


def test_a_declined_capture_fails_the_payment_with_a_case():
    order = captured_order(quantity=1)
    script_simulated_payment(order_number=order.number, kind="capture", outcome="decline")

    tx = capture_payment(
        order_id=order.pk, amount=Decimal("10.00"), actor=FINANCE, idempotency_key="c"
    )

    order.refresh_from_db()
    assert (tx.status, order.payment_status) == ("failed", PaymentStatus.FAILED)
    assert ExceptionCase.objects.get(order=order).kind == "payment_failed"
    assert _types(order) == ["order.payment_failed"]


def test_an_idempotency_key_of_another_operation_is_refused(paid):
    with pytest.raises(DomainError) as refused:
        refund_payment(
            order_id=paid.pk,
            amount=Decimal("1.00"),
            actor=FINANCE,
            reason="",
            idempotency_key="cap-1",
        )

    assert refused.value.code == "idempotency_key_reused"
    assert PaymentTransaction.objects.filter(kind="refund").count() == 0


def test_a_failed_refunds_case_resolves_as_soon_as_its_retry_succeeds(paid):
    # given: a declined refund's case; reconcile leaves it open while it is failed
    script_simulated_payment(order_number=paid.number, kind="refund", outcome="decline")
    refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key="k"
    )
    case = ExceptionCase.objects.get(order=paid)
    while_failed = reconcile_open_cases()

    # when: the same key is retried and the provider refunds
    refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key="k"
    )

    # then: resolved in the refund's own transaction; reconcile has nothing left to do
    case.refresh_from_db()
    assert while_failed == []
    assert (case.status, case.resolution, case.resolution_note) == (
        "resolved",
        "condition_cleared",
        "Refund retried and succeeded",
    )
    assert reconcile_open_cases() == []


def test_a_refund_case_stays_open_while_another_refund_still_fails(paid):
    # given: two refunds declined (keys a and b): one case, naming the latest failure
    script_simulated_payment(order_number=paid.number, kind="refund", outcome="decline", times=2)
    for key in ("a", "b"):
        refund_payment(
            order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key=key
        )
    case = ExceptionCase.objects.get(order=paid)

    # when: only a's retry succeeds
    refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key="a"
    )
    case.refresh_from_db()
    open_after_a = case.status
    refund_payment(
        order_id=paid.pk, amount=Decimal("5.00"), actor=FINANCE, reason="", idempotency_key="b"
    )

    # then: open until b was refunded too
    case.refresh_from_db()
    assert open_after_a == "open"
    assert case.status == "resolved"
    assert payment_summary(paid).refunded == Decimal("10.00")


def _zero_total_order(external_id):
    """An order whose one line is discounted to nothing, authorized at 0 (the shape of an
    advance exchange's replacement)."""
    return captured_order(
        external_id=external_id,
        lines=[
            LineInput(
                sku=ProductFactory().sku,
                quantity=1,
                unit_price=Decimal("12.50"),
                discount=Decimal("12.50"),
            )
        ],
        payment_status=PaymentStatus.AUTHORIZED,
        payment_reference="auth_0",
    )


def test_a_zero_total_authorized_order_settles_at_zero_once():
    order = _zero_total_order("Z-1")
    assert order.grand_total == Decimal("0")

    event = settle_payment_at_zero(order_id=order.pk, actor=FINANCE, reason="nothing owed")
    again = settle_payment_at_zero(order_id=order.pk, actor=FINANCE, reason="nothing owed")

    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert event is not None
    assert again is None
    assert event.payload == {
        "amount": "0.00",
        "currency": "USD",
        "released": "0.00",
        "captured": "0.00",
        "refunded": "0.00",
        "payment_status": "paid",
        "reason": "nothing owed",
    }
    assert _types(order) == ["order.payment_settled"]
    summary = payment_summary(order)
    assert (summary.authorized, summary.captured, summary.refunded) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert PaymentTransaction.objects.filter(order=order).count() == 0


def test_settling_at_zero_is_refused_when_something_is_owed_or_was_charged(paid):
    owed = captured_order(external_id="Z-2", payment_status=PaymentStatus.AUTHORIZED)
    cancelled = _zero_total_order("Z-3")
    Order.objects.filter(pk=cancelled.pk).update(status="cancelled")  # rule-ok: test setup

    for order in (owed, paid, cancelled):
        before = order.payment_status
        assert settle_payment_at_zero(order_id=order.pk, actor=FINANCE, reason="x") is None
        order.refresh_from_db()
        assert order.payment_status == before
    assert payment_summary(owed).authorized == Decimal("10.00")
    assert payment_summary(paid).captured == Decimal("30.00")
    assert not Event.objects.filter(type="order.payment_settled").exists()
