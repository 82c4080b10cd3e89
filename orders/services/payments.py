"""Money through the payment provider: authorize, capture, void and refund.

Every call is idempotent by the caller's `idempotency_key` and leaves one `PaymentTransaction`
row per attempt (orders/models.py). The shape of each call:

1. claim, under the order lock: the succeeded row of the key is returned as it is (the provider
   is not called again); a pending row of the key is another caller at work
   (`payment_in_progress`, 409) unless its provider did not answer or it is stale, in which case
   this call resumes it with the same provider key; otherwise the call is checked against the
   order (refusals such as `refund_exceeds_captured` write nothing) and a pending row is
   inserted and committed. Pending amounts count as spent, so parallel callers with different
   keys cannot together exceed what was captured.
2. the provider, outside any transaction, with the row's provider idempotency key;
3. the outcome under the order lock: succeeded (with its event and the order's payment status),
   failed (a decline: with its event, which opens an exception case), or still pending with
   `provider_unavailable` (a timeout: the outcome is unknown, so a retry resumes the same row
   and provider key instead of risking a second charge).

A key's next attempt after a failure gets a new provider key (providers replay a stored decline
for a key they have seen); the partial unique index on the key allows one pending or succeeded
row per key, ever.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput, TransitionRefused
from oms.core.money import format_amount, has_valid_scale, is_in_range
from oms.events.models import Event
from oms.events.services import record_event
from orders.events import (
    ORDER_PAYMENT_AUTHORIZED,
    ORDER_PAYMENT_CAPTURED,
    ORDER_PAYMENT_FAILED,
    ORDER_PAYMENT_REFUNDED,
    ORDER_PAYMENT_SETTLED,
    ORDER_PAYMENT_VOIDED,
    ORDER_REFUND_FAILED,
    ORDER_STATUS_CHANGED,
)
from orders.locks import lock_order
from orders.models import (
    Order,
    OrderStatus,
    PaymentKind,
    PaymentStatus,
    PaymentTransaction,
    TransactionStatus,
)
from orders.payments import (
    PaymentProvider,
    PaymentRefused,
    PaymentUnavailable,
    ProviderResult,
    provider_for,
)
from orders.payments.held import PLATFORM, PLATFORM_HELD, held_by_platform
from orders.selectors import payment_figures

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("payments")
PROVIDER_UNAVAILABLE = "provider_unavailable"
# A pending row nobody has touched for this long belongs to a caller that died between the
# claim and the outcome; the next call with its key resumes it (same provider key: no double
# charge). Providers answer in seconds; two minutes leaves room for a slow one.
STALE_PENDING = timedelta(minutes=2)
CHARGEABLE = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


class PaymentErrorCode:
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    REFUND_EXCEEDS_CAPTURED = "refund_exceeds_captured"
    CAPTURE_EXCEEDS_AUTHORIZED = "capture_exceeds_authorized"
    PAYMENT_NOT_AUTHORIZABLE = "payment_not_authorizable"
    PAYMENT_NOT_CAPTURABLE = "payment_not_capturable"
    PAYMENT_NOT_VOIDABLE = "payment_not_voidable"


@dataclass(frozen=True)
class _Request:
    order_id: int
    kind: str
    amount: Decimal | None  # None: decided under the lock (a void releases what is left)
    idempotency_key: str
    actor: Actor
    reason: str = ""
    shipment_reference: str = ""


# --- public services --------------------------------------------------------------------------


def authorize_payment(
    *, order_id: int, amount: Decimal, actor: Actor, idempotency_key: str
) -> PaymentTransaction:
    """Hold `amount`. Success: `order.payment_authorized`, a pending payment becomes authorized.
    Decline: `order.payment_failed` (a payment_failed case), a pending payment becomes failed."""
    request = _Request(order_id, PaymentKind.AUTHORIZE, amount, idempotency_key, actor)

    def check(order: Order) -> Decimal:
        if order.payment_status not in CHARGEABLE:
            raise TransitionRefused(
                PaymentErrorCode.PAYMENT_NOT_AUTHORIZABLE,
                f"The payment of {order.number} is {order.get_payment_status_display().lower()}.",
                payment_status=order.payment_status,
            )
        return _valid_amount(amount, order.currency)

    def call(order: Order, tx: PaymentTransaction) -> ProviderResult:
        return provider_for(order.payment_method).authorize(
            order_number=order.number,
            amount=tx.amount,
            currency=tx.currency,
            idempotency_key=tx.provider_idempotency_key,
        )

    def succeeded(order: Order, tx: PaymentTransaction, actor: Actor) -> None:
        if order.payment_status == PaymentStatus.PENDING:
            order.authorize_payment(reference=tx.provider_reference)
            order.save(update_fields=["payment_status", "payment_reference", "updated_at"])
        _record(order, tx, actor, ORDER_PAYMENT_AUTHORIZED)

    return _run(request, check, call, succeeded, _payment_failed)


def capture_payment(
    *,
    order_id: int,
    amount: Decimal,
    actor: Actor,
    idempotency_key: str,
    shipment_reference: str = "",
    settles_order: bool = False,
) -> PaymentTransaction:
    """Charge `amount` (what one shipment sent; fulfillment/services/payment_capture.py works
    it out per fulfillment order). `settles_order`: the last capture due, so on success the
    order's payment becomes paid (and a delivered order completes). Each success records
    `order.payment_captured`; a decline fails the payment with `order.payment_failed` (a case)."""
    request = _Request(
        order_id,
        PaymentKind.CAPTURE,
        amount,
        idempotency_key,
        actor,
        shipment_reference=shipment_reference,
    )

    def check(order: Order) -> Decimal:
        if order.payment_status not in CHARGEABLE:
            raise TransitionRefused(
                PaymentErrorCode.PAYMENT_NOT_CAPTURABLE,
                f"The payment of {order.number} is {order.get_payment_status_display().lower()}.",
                payment_status=order.payment_status,
            )
        value = _valid_amount(amount, order.currency)
        figures = _figures(order)
        left = figures.authorized - figures.captured - figures.pending_captures
        if value > left:
            raise TransitionRefused(
                PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZED,
                f"{format_amount(value, order.currency)} {order.currency} is more than the "
                f"{format_amount(left, order.currency)} left to capture on {order.number}.",
                capturable=format_amount(left, order.currency),
            )
        return value

    def call(order: Order, tx: PaymentTransaction) -> ProviderResult:
        return provider_for(order.payment_method).capture(
            order_number=order.number,
            authorization=order.payment_reference,
            amount=tx.amount,
            currency=tx.currency,
            idempotency_key=tx.provider_idempotency_key,
        )

    def succeeded(order: Order, tx: PaymentTransaction, actor: Actor) -> None:
        event = _record(
            order, tx, actor, ORDER_PAYMENT_CAPTURED, subject=tx, settles_order=settles_order
        )  # the ERP connector invoices the shipment (erp/handlers.py)
        if not settles_order or order.payment_status not in CHARGEABLE:
            return
        order.capture_payment(reference=order.payment_reference or tx.provider_reference)
        order.save(update_fields=["payment_status", "payment_reference", "updated_at"])
        if order.status == OrderStatus.DELIVERED:
            order.complete()
            order.save(update_fields=["status", "updated_at"])
            record_event(
                stream=order.stream,
                type=ORDER_STATUS_CHANGED,
                actor=SYSTEM,
                payload={"from": OrderStatus.DELIVERED, "to": order.status},
                previous=event,
            )

    return _run(request, check, call, succeeded, _payment_failed)


def void_payment(
    *, order_id: int, actor: Actor, reason: str, idempotency_key: str
) -> PaymentTransaction:
    """Release the authorization of an order nothing was captured of (a cancelled order):
    `order.payment_voided`, and the payment becomes voided. Refused `payment_not_voidable`
    once anything was captured (refund instead)."""
    request = _Request(order_id, PaymentKind.VOID, None, idempotency_key, actor, reason=reason)

    def check(order: Order) -> Decimal:
        figures = _figures(order)
        if order.payment_status not in CHARGEABLE or figures.captured or figures.pending_captures:
            raise TransitionRefused(
                PaymentErrorCode.PAYMENT_NOT_VOIDABLE,
                f"The payment of {order.number} is {order.get_payment_status_display().lower()}"
                f" with {format_amount(figures.captured, order.currency)} {order.currency} "
                "captured; only an uncaptured authorization can be voided.",
                payment_status=order.payment_status,
            )
        return figures.authorized

    def call(order: Order, tx: PaymentTransaction) -> ProviderResult:
        return provider_for(order.payment_method).void(
            order_number=order.number,
            authorization=order.payment_reference,
            amount=tx.amount,
            currency=tx.currency,
            idempotency_key=tx.provider_idempotency_key,
        )

    def succeeded(order: Order, tx: PaymentTransaction, actor: Actor) -> None:
        if order.payment_status in CHARGEABLE:
            order.void_payment()
            order.save(update_fields=["payment_status", "updated_at"])
        _record(order, tx, actor, ORDER_PAYMENT_VOIDED)

    return _run(request, check, call, succeeded, _payment_failed)


def refund_payment(
    *,
    order_id: int,
    amount: Decimal,
    actor: Actor,
    reason: str,
    idempotency_key: str,
    lines: list[dict[str, int]] | None = None,
) -> PaymentTransaction:
    """Give back `amount` of what was captured. Refused `refund_exceeds_captured` when it is
    more than captured less refunded (and less refunds in flight). Success:
    `order.payment_refunded`; the payment becomes refunded when nothing captured is left.
    A decline or no answer: `order.refund_failed` (subject the order: a case opens); calling
    again with the same key retries, and at most one refund per key ever succeeds.
    `lines` (`line_number`, `quantity`): the order lines the amount gives back, when it is for
    lines (a return's), named in the event so a sales platform can refund those lines."""
    request = _Request(order_id, PaymentKind.REFUND, amount, idempotency_key, actor, reason=reason)
    refunded_lines = [
        {"line_number": int(x["line_number"]), "quantity": int(x["quantity"])}
        for x in lines or []
        if int(x["quantity"]) > 0
    ]

    def check(order: Order) -> Decimal:
        value = _valid_amount(amount, order.currency)
        figures = _figures(order)
        left = figures.captured - figures.refunded - figures.pending_refunds
        if value > left:
            raise TransitionRefused(
                PaymentErrorCode.REFUND_EXCEEDS_CAPTURED,
                f"{format_amount(value, order.currency)} {order.currency} is more than the "
                f"{format_amount(left, order.currency)} {order.currency} left to refund on "
                f"{order.number}.",
                refundable=format_amount(left, order.currency),
            )
        return value

    def call(order: Order, tx: PaymentTransaction) -> ProviderResult:
        capture = (
            PaymentTransaction.objects.filter(
                order_id=order.pk, kind=PaymentKind.CAPTURE, status=TransactionStatus.SUCCEEDED
            )
            .order_by("-id")
            .first()
        )
        return _provider(order, tx).refund(
            order_number=order.number,
            capture_reference=capture.provider_reference if capture else order.payment_reference,
            amount=tx.amount,
            currency=tx.currency,
            idempotency_key=tx.provider_idempotency_key,
        )

    def succeeded(order: Order, tx: PaymentTransaction, actor: Actor) -> None:
        figures = _figures(order)
        if order.payment_status == PaymentStatus.PAID and figures.refunded >= figures.captured:
            order.mark_refunded()
            order.save(update_fields=["payment_status", "updated_at"])
        # Subject the order: the layers above react (channels sends the refund to the platform).
        extra = {"lines": refunded_lines} if refunded_lines else {}
        _record(order, tx, actor, ORDER_PAYMENT_REFUNDED, subject=order, **extra)

    def failed(order: Order, tx: PaymentTransaction, actor: Actor) -> None:
        _record(order, tx, actor, ORDER_REFUND_FAILED, subject=order)

    return _run(request, check, call, succeeded, failed, unavailable=failed)


def void_cancelled_order_payment(*, order_id: int) -> PaymentTransaction | None:
    """A cancelled order whose payment is authorized and nothing captured: release the
    authorization (key `void:<order number>`, so running it again voids once). None when there
    is nothing to void."""
    order = Order.objects.filter(pk=order_id).first()
    if (
        order is None
        or order.status != OrderStatus.CANCELLED
        or order.payment_status != PaymentStatus.AUTHORIZED
    ):
        return None
    try:
        return void_payment(
            order_id=order_id,
            actor=SYSTEM,
            reason=f"order cancelled: {order.cancel_reason}"[:200],
            idempotency_key=f"void:{order.number}",
        )
    except TransitionRefused as exc:
        if exc.code in (
            PaymentErrorCode.PAYMENT_NOT_VOIDABLE,
            PaymentErrorCode.PAYMENT_IN_PROGRESS,
        ):
            return None
        raise


def settle_payment_at_zero(*, order_id: int, actor: Actor, reason: str) -> Event | None:
    """Nothing is owed on an authorized zero-total order that nothing was charged on (an
    advance exchange's replacement whose return arrived in time): the authorization standing
    behind it is released and the payment settles at zero (authorized → paid), with
    `order.payment_settled`; a delivered order then completes (`order.status_changed`). No
    provider call and no payment transaction: no money moves. Idempotent, and safe inside the
    caller's transaction: None when the payment is not authorized (already settled, charged or
    failed), the order is cancelled (the void path applies), its total is not zero (something
    is owed: capture it), or anything was captured or is being captured (money moved)."""
    with transaction.atomic():
        order = lock_order(order_id)
        if (
            order.payment_status != PaymentStatus.AUTHORIZED
            or order.status == OrderStatus.CANCELLED
            or order.grand_total != 0
        ):
            return None
        figures = _figures(order)
        pending = PaymentTransaction.objects.filter(
            order_id=order.pk, status=TransactionStatus.PENDING
        ).exists()
        if figures.captured or pending:
            return None
        order.settle_at_zero()
        order.save(update_fields=["payment_status", "updated_at"])
        zero = format_amount(Decimal("0"), order.currency)
        event = record_event(
            stream=order.stream,
            type=ORDER_PAYMENT_SETTLED,
            actor=actor,
            payload={
                "amount": zero,
                "currency": order.currency,
                "released": format_amount(figures.authorized, order.currency),
                "captured": zero,
                "refunded": zero,
                "payment_status": order.payment_status,
                "reason": reason[:200],
            },
        )
        if order.status == OrderStatus.DELIVERED:
            order.complete()
            order.save(update_fields=["status", "updated_at"])
            event = record_event(
                stream=order.stream,
                type=ORDER_STATUS_CHANGED,
                actor=SYSTEM,
                payload={"from": OrderStatus.DELIVERED, "to": order.status},
                previous=event,
            )
        return event


# --- figures ----------------------------------------------------------------------------------


def _provider(order: Order, tx: PaymentTransaction) -> PaymentProvider:
    """The provider the transaction was claimed with: the order's payment provider, or the
    sales platform for a payment it holds (orders/payments/held.py)."""
    return PLATFORM_HELD if tx.provider == PLATFORM else provider_for(order.payment_method)


_figures = payment_figures


def _valid_amount(amount: Decimal, currency: str) -> Decimal:
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount <= 0
        or not is_in_range(amount, currency)
        or not has_valid_scale(amount, currency)
    ):
        raise InvalidInput(
            [
                FieldError(
                    code="invalid_amount",
                    field="amount",
                    detail=f"The amount must be positive with at most {currency}'s minor units.",
                )
            ]
        )
    return amount


# --- the three steps --------------------------------------------------------------------------

Outcome = Callable[[Order, PaymentTransaction, Actor], None]


def _run(
    request: _Request,
    check: Callable[[Order], Decimal],
    call: Callable[[Order, PaymentTransaction], ProviderResult],
    succeeded: Outcome,
    failed: Outcome,
    unavailable: Outcome | None = None,
) -> PaymentTransaction:
    tx, order, is_final = _claim(request, check)
    if is_final:
        return tx
    try:
        result = call(order, tx)
    except PaymentRefused as exc:
        return _finish(
            request, tx.pk, TransactionStatus.FAILED, exc.code, exc.message, None, failed
        )
    except PaymentUnavailable as exc:
        logger.warning("payment provider unavailable", extra={"transaction": tx.pk})
        return _finish(
            request,
            tx.pk,
            TransactionStatus.PENDING,
            PROVIDER_UNAVAILABLE,
            str(exc),
            None,
            unavailable,
        )
    return _finish(request, tx.pk, TransactionStatus.SUCCEEDED, "", "", result, succeeded)


def _claim(
    request: _Request, check: Callable[[Order], Decimal]
) -> tuple[PaymentTransaction, Order, bool]:
    try:
        with transaction.atomic():
            order = lock_order(request.order_id)
            live = (
                PaymentTransaction.objects.select_for_update(of=("self",))
                .filter(idempotency_key=request.idempotency_key)
                .exclude(status=TransactionStatus.FAILED)
                .first()
            )
            if live is not None:
                return _existing(request, order, live)
            amount = check(order)
            attempt = (
                PaymentTransaction.objects.filter(idempotency_key=request.idempotency_key).count()
                + 1
            )
            key = request.idempotency_key
            tx = PaymentTransaction.objects.create(
                order=order,
                kind=request.kind,
                amount=amount,
                currency=order.currency,
                provider=(
                    PLATFORM
                    if request.kind == PaymentKind.REFUND and held_by_platform(order)
                    else provider_for(order.payment_method).name
                ),
                idempotency_key=key,
                attempt=attempt,
                provider_idempotency_key=key if attempt == 1 else f"{key}#{attempt}",
                status=TransactionStatus.PENDING,
                shipment_reference=request.shipment_reference,
                reason=request.reason[:200],
                actor=request.actor.label[:200],
            )
    except IntegrityError:
        # The same key on another order, claimed in between (this order's lock does not cover
        # it): the partial unique index refused the second row.
        raise TransitionRefused(
            PaymentErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key is in use for another payment operation.",
        ) from None
    return tx, order, False


def _existing(
    request: _Request, order: Order, live: PaymentTransaction
) -> tuple[PaymentTransaction, Order, bool]:
    if live.order_id != order.pk or live.kind != request.kind:
        raise TransitionRefused(
            PaymentErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was used for another payment operation.",
        )
    if live.status == TransactionStatus.SUCCEEDED:
        return live, order, True
    now = timezone.now()
    if live.error_code != PROVIDER_UNAVAILABLE and live.updated_at > now - STALE_PENDING:
        raise TransitionRefused(
            PaymentErrorCode.PAYMENT_IN_PROGRESS,
            f"A {live.kind} with this idempotency key is in progress; try again shortly.",
        )
    # Resume: the provider never answered this attempt (or its caller died), so ask again with
    # the same provider key; the provider treats it as the same operation.
    live.error_code = ""
    live.error_message = ""
    live.save(update_fields=["error_code", "error_message", "updated_at"])
    return live, order, False


def _finish(
    request: _Request,
    tx_id: int,
    status: str,
    code: str,
    message: str,
    result: ProviderResult | None,
    outcome: Outcome | None,
) -> PaymentTransaction:
    with transaction.atomic():
        order = lock_order(request.order_id)
        tx = PaymentTransaction.objects.select_for_update(of=("self",)).get(pk=tx_id)
        if tx.status != TransactionStatus.PENDING:
            return tx  # a resuming caller finished it first
        tx.status = status
        tx.error_code = code
        tx.error_message = message[:500]
        if result is not None:
            tx.provider_reference = result.reference[:100]
        tx.save(
            update_fields=[
                "status",
                "error_code",
                "error_message",
                "provider_reference",
                "updated_at",
            ]
        )
        if outcome is not None:
            outcome(order, tx, request.actor)
    return tx


# --- outcomes ---------------------------------------------------------------------------------


def _payment_failed(order: Order, tx: PaymentTransaction, actor: Actor) -> None:
    if order.payment_status in CHARGEABLE and tx.kind != PaymentKind.VOID:
        order.fail_payment()
        order.save(update_fields=["payment_status", "updated_at"])
    _record(
        order, tx, actor, ORDER_PAYMENT_FAILED, subject=order
    )  # ops opens a payment_failed case


def _record(
    order: Order,
    tx: PaymentTransaction,
    actor: Actor,
    type_: str,
    *,
    subject: Order | PaymentTransaction | None = None,
    **extra: object,
) -> Event:
    figures = _figures(order)
    payload: dict[str, object] = {
        "transaction": tx.pk,
        "kind": tx.kind,
        "amount": format_amount(tx.amount, tx.currency),
        "currency": tx.currency,
        "reference": tx.provider_reference,
        "status": tx.status,
        "attempt": tx.attempt,
        "captured": format_amount(figures.captured, tx.currency),
        "refunded": format_amount(figures.refunded, tx.currency),
        "payment_status": order.payment_status,
        **extra,
    }
    if tx.shipment_reference:
        payload["shipment"] = tx.shipment_reference
    if tx.reason:
        payload["reason"] = tx.reason
    if tx.error_code:
        payload["code"] = tx.error_code
        payload["detail"] = tx.error_message or tx.error_code
    return record_event(
        stream=order.stream,
        type=type_,
        actor=actor,
        payload=payload,
        subject=subject,
    )
