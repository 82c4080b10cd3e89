"""Refunds: of a return (computed, returns/refunds.py) and appeasements (goodwill, no return).

The money moves through the payments service (`orders.services.payments.refund_payment`) with
the refund row's `idempotency_key` as the payment key, so one refund row refunds at most once,
ever, however often it is retried or by how many callers. The shape of each call:

1. under the order lock (then the return): compute what is due, capped at what the payment
   still allows (`payment_summary(order).refundable`, per currency minor units), and insert a
   pending `Refund` with `refund.requested`; or find the refund already at work for this return
   (pending: answered as it is) or the one that failed (retried with its own key). Committed.
2. `refund_payment()` outside any transaction (it calls the provider).
3. under the order lock: the refund succeeded (`refund.succeeded`; an inspected return that is
   fully refunded closes) or failed (`refund.failed`; the payments service's
   `order.refund_failed` opened the exception case). No answer from the provider leaves it
   pending; calling again resumes it with the same key.

Twenty parallel calls for one return make one refund: the first inserts the pending row under
the order lock, the others find it there.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.errors import DomainError, FieldError, InvalidInput, TransitionRefused
from oms.core.money import format_amount, has_valid_scale, is_in_range
from orders.locks import lock_order
from orders.models import Order, PaymentTransaction, TransactionStatus
from orders.selectors import payment_summary
from orders.services.payments import PaymentErrorCode, refund_payment
from returns.events import REFUND_FAILED, REFUND_REQUESTED, REFUND_SUCCEEDED, RETURN_CLOSED
from returns.exceptions import ReturnTransitionRefused
from returns.locks import lock_refund, lock_return
from returns.models import (
    AppeasementReason,
    Refund,
    RefundKind,
    RefundStatus,
    Return,
    ReturnStatus,
)
from returns.policy import appeasement_limit, policy_for
from returns.refunds import quote_return_refund
from returns.services.common import record

REFUNDABLE_AFTER_RECEIPT = (ReturnStatus.INSPECTED,)
REFUNDABLE_BEFORE_RECEIPT = (ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT)


class NothingToRefund(DomainError):
    def __init__(self, rma: Return) -> None:
        super().__init__(
            code="nothing_to_refund",
            detail=f"Return {rma.number} has nothing left to refund.",
            http_status=409,
        )


def _refundable_now(order: Order) -> Decimal:
    return payment_summary(order).refundable


def _start_return_refund(return_id: int, actor: Actor) -> Refund:
    """Step 1 for a return: the refund to pay (new, retried or already at work). With nothing
    left to refund, an inspected return closes (committed) and `nothing_to_refund` is raised."""
    settled: Return | None = None
    with transaction.atomic():
        order = lock_order(Return.objects.values_list("order_id", flat=True).get(pk=return_id))
        rma = lock_return(return_id)
        at_work = (
            Refund.objects.select_for_update(of=("self",))
            .filter(rma=rma, status__in=[RefundStatus.PENDING, RefundStatus.FAILED])
            .order_by("id")
            .first()
        )
        if at_work is not None:
            if at_work.status == RefundStatus.FAILED:
                _retry(order, at_work, actor)
            return at_work
        if rma.status == ReturnStatus.CLOSED:
            raise NothingToRefund(rma)
        before_receipt = rma.policy.refund_before_receipt and rma.status in (
            REFUNDABLE_BEFORE_RECEIPT
        )
        if rma.status not in REFUNDABLE_AFTER_RECEIPT and not before_receipt:
            raise ReturnTransitionRefused(
                "return_not_refundable",
                f"Return {rma.number} is {rma.get_status_display().lower()}: it is refunded "
                "once inspected"
                + (" (or before receipt, as its policy allows)." if before_receipt else "."),
                return_number=rma.number,
                status=rma.status,
            )
        quote = quote_return_refund(rma)
        refundable = _refundable_now(order)
        amount = min(quote.due, refundable)
        if amount <= 0:
            if quote.due > 0:
                raise TransitionRefused(
                    PaymentErrorCode.REFUND_EXCEEDS_CAPTURED,
                    f"{format_amount(quote.due, order.currency)} {order.currency} is due but "
                    f"nothing captured is left to refund on {order.number}.",
                    refundable=format_amount(refundable, order.currency),
                )
            _close_if_settled(order, rma, actor)
            settled = rma
        if settled is None:
            refund = _new_return_refund(order, rma, quote, amount, refundable, actor)
    if settled is not None:
        raise NothingToRefund(settled)
    return refund


def _new_return_refund(
    order: Order, rma: Return, quote: Any, amount: Decimal, refundable: Decimal, actor: Actor
) -> Refund:
    breakdown = quote.as_dict()
    if amount < quote.due:
        breakdown["capped_at_refundable"] = format_amount(refundable, order.currency)
    attempt = Refund.objects.filter(rma=rma).count() + 1
    refund = Refund.objects.create(
        order=order,
        rma=rma,
        kind=RefundKind.RETURN,
        amount=amount,
        currency=order.currency,
        breakdown=breakdown,
        reason_code=rma.lines.values_list("reason_code", flat=True).first() or "",
        idempotency_key=f"refund:{rma.number}:{attempt}",
        requested_by=actor.label[:200],
    )
    _requested(order, refund, actor)
    return refund


def _requested(order: Order, refund: Refund, actor: Actor) -> None:
    record(
        order,
        refund.rma,
        REFUND_REQUESTED,
        actor,
        {
            "return": refund.rma.number if refund.rma else None,
            "refund": refund.pk,
            "kind": refund.kind,
            "amount": format_amount(refund.amount, refund.currency),
            "currency": refund.currency,
            "reason_code": refund.reason_code,
            "breakdown": refund.breakdown,
            "attempt": refund.attempts + 1,
        },
    )


def _retry(order: Order, refund: Refund, actor: Actor) -> None:
    refund.retry()
    refund.save(update_fields=["status", "updated_at"])
    _requested(order, refund, actor)


def refund_return(*, return_id: int, actor: Actor) -> Refund:
    """Refund what the return is worth now (see the module docstring). Refused:
    `return_not_refundable` (not inspected, and the policy does not refund before receipt),
    `nothing_to_refund`, `refund_exceeds_captured`. A failed refund of the return is retried
    with its own key."""
    refund = _start_return_refund(return_id, actor)
    return _pay(refund.pk, actor)


def retry_refund(*, refund_id: int, actor: Actor) -> Refund:
    """A refund the provider declined, tried again after the cause was fixed (same key: it
    refunds at most once). A succeeded refund is answered as it is."""
    with transaction.atomic():
        order = lock_order(Refund.objects.values_list("order_id", flat=True).get(pk=refund_id))
        refund = lock_refund(refund_id)
        if refund.status == RefundStatus.FAILED:
            _retry(order, refund, actor)
    return _pay(refund_id, actor)


def appease(
    *,
    order_id: int,
    amount: Decimal,
    reason_code: str,
    note: str,
    actor: Actor,
    roles: list[str],
    idempotency_key: str | None = None,
) -> Refund:
    """A goodwill refund with no return, up to the highest appeasement limit of the caller's
    roles in the channel's return policy. Refused: `appeasement_over_limit` (403),
    `validation_failed` (reason code, amount), `refund_exceeds_captured`."""
    if reason_code not in AppeasementReason.values:
        raise InvalidInput(
            [
                FieldError(
                    "unknown_reason_code",
                    f"Appeasement reasons: {AppeasementReason.values}.",
                    "reason_code",
                )
            ]
        )
    key = idempotency_key or f"appease:{uuid.uuid4()}"
    with transaction.atomic():
        order = lock_order(order_id)
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is None:
            refund = _new_appeasement(order, amount, reason_code, note, actor, roles, key)
    return _pay((existing or refund).pk, actor)


def _new_appeasement(
    order: Order,
    amount: Decimal,
    reason_code: str,
    note: str,
    actor: Actor,
    roles: list[str],
    key: str,
) -> Refund:
    if (
        not amount.is_finite()
        or amount <= 0
        or not is_in_range(amount, order.currency)
        or not has_valid_scale(amount, order.currency)
    ):
        raise InvalidInput(
            [FieldError("invalid_amount", "A positive amount in the order's currency.", "amount")]
        )
    limit = appeasement_limit(policy_for(order.channel), roles)
    if amount > limit:
        raise DomainError(
            code="appeasement_over_limit",
            detail=f"{format_amount(amount, order.currency)} {order.currency} is over your "
            f"appeasement limit of {format_amount(limit, order.currency)} {order.currency}.",
            http_status=403,
            extra={"limit": format_amount(limit, order.currency)},
        )
    refund = Refund.objects.create(
        order=order,
        rma=None,
        kind=RefundKind.APPEASEMENT,
        amount=amount,
        currency=order.currency,
        reason_code=reason_code,
        note=note[:300],
        idempotency_key=key,
        requested_by=actor.label[:200],
        breakdown={"appeasement": format_amount(amount, order.currency), "limit": str(limit)},
    )
    _requested(order, refund, actor)
    return refund


def _pay(refund_id: int, actor: Actor) -> Refund:
    """Steps 2 and 3: the payments service, then the outcome under the order lock."""
    refund = Refund.objects.get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    try:
        tx: PaymentTransaction | None = refund_payment(
            order_id=refund.order_id,
            amount=Decimal(format_amount(refund.amount, refund.currency)),  # stored at 4 places
            actor=actor,
            reason=f"{refund.kind}:{refund.reason_code}"[:200],
            idempotency_key=refund.idempotency_key,
            lines=[  # a return's lines, so the sales platform refunds those lines
                {"line_number": line["line_number"], "quantity": line["units"]}
                for line in (refund.breakdown or {}).get("lines", [])
            ],
        )
        refused: DomainError | None = None
    except TransitionRefused as exc:
        if exc.code == PaymentErrorCode.PAYMENT_IN_PROGRESS:
            return refund  # another caller is paying this very refund right now
        tx, refused = None, exc
    with transaction.atomic():
        order = lock_order(refund.order_id)
        refund = lock_refund(refund_id)
        if refund.status != RefundStatus.PENDING:
            return refund
        if tx is not None and tx.status == TransactionStatus.SUCCEEDED:
            refund.succeed(transaction_id=tx.pk, reference=tx.provider_reference, at=timezone.now())
            refund.attempts += 1
            refund.save(
                update_fields=[
                    "status",
                    "payment_transaction_id",
                    "provider_reference",
                    "refunded_at",
                    "error_code",
                    "error_message",
                    "attempts",
                    "updated_at",
                ]
            )
            record(
                order,
                refund.rma,
                REFUND_SUCCEEDED,
                actor,
                {
                    "return": refund.rma.number if refund.rma else None,
                    "refund": refund.pk,
                    "amount": format_amount(refund.amount, refund.currency),
                    "currency": refund.currency,
                    "payment_transaction": tx.pk,
                    "provider_reference": tx.provider_reference,
                },
                subject=refund,  # the ERP connector sends a credit memo (erp/handlers.py)
            )
            if refund.rma is not None:
                _close_if_settled(order, lock_return(refund.rma.pk), actor)
        elif tx is not None and tx.status == TransactionStatus.PENDING:
            refund.error_code = tx.error_code[:64]  # no answer yet: a retry resumes it
            refund.error_message = tx.error_message[:300]
            refund.save(update_fields=["error_code", "error_message", "updated_at"])
        else:
            code = refused.code if refused is not None else (tx.error_code if tx else "")
            detail = refused.detail if refused is not None else (tx.error_message if tx else "")
            refund.fail(code=code, message=detail, transaction_id=tx.pk if tx else None)
            refund.attempts += 1
            refund.save(
                update_fields=[
                    "status",
                    "payment_transaction_id",
                    "error_code",
                    "error_message",
                    "attempts",
                    "updated_at",
                ]
            )
            record(
                order,
                refund.rma,
                REFUND_FAILED,
                actor,
                {
                    "return": refund.rma.number if refund.rma else None,
                    "refund": refund.pk,
                    "amount": format_amount(refund.amount, refund.currency),
                    "code": code,
                    "detail": detail,
                },
            )
    return refund


def _close_if_settled(order: Order, rma: Return, actor: Actor) -> None:
    """An inspected (or refunded-before-receipt) return with nothing more due closes."""
    if rma.status == ReturnStatus.CLOSED:
        return
    if Refund.objects.filter(rma=rma, status=RefundStatus.PENDING).exists():
        return
    quote = quote_return_refund(rma)
    refunded = sum(
        Refund.objects.filter(rma=rma, status=RefundStatus.SUCCEEDED).values_list(
            "amount", flat=True
        ),
        Decimal("0"),
    )
    if quote.due > 0 and _refundable_now(order) > 0:
        return
    if rma.status != ReturnStatus.INSPECTED:  # refunded before receipt: it still comes back
        return
    rma.close(at=timezone.now())
    rma.save(update_fields=["status", "closed_at", "updated_at"])
    record(
        order,
        rma,
        RETURN_CLOSED,
        actor,
        {"settled_by": "refund", "refunded": format_amount(refunded, rma.currency)},
    )
