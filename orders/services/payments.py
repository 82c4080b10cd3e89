"""Capture the payment once every line has shipped or been picked up."""

import logging

from django.db import transaction

from oms.core.actors import Actor
from oms.events.services import record_event
from orders.events import ORDER_PAYMENT_CAPTURED, ORDER_PAYMENT_FAILED, ORDER_STATUS_CHANGED
from orders.locks import lock_order
from orders.models import LineStatus, Order, OrderStatus, PaymentStatus
from orders.payments import PaymentRefused, provider_for

logger = logging.getLogger(__name__)

SHIPPED_LINE_STATUSES = (LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.CANCELLED)
SYSTEM = Actor.system("payments")


def capture_payment(*, order_id: int) -> str:
    """Idempotent: does nothing unless every live line has shipped and the payment is still
    pending or authorized. The provider is called outside the transaction; PaymentUnavailable
    propagates for the task to retry; a refusal marks the payment failed with an event."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.payment_status not in (
        PaymentStatus.PENDING,
        PaymentStatus.AUTHORIZED,
    ):
        return "not_due"
    statuses = set(order.lines.values_list("status", flat=True))
    if (
        not statuses
        or not statuses <= set(SHIPPED_LINE_STATUSES)
        or statuses == {LineStatus.CANCELLED}
    ):
        return "not_due"
    try:
        result = provider_for(order.payment_method).capture(
            order_number=order.number,
            authorization=order.payment_reference,
            amount=order.grand_total,
            currency=order.currency,
        )
    except PaymentRefused as exc:
        _record_failure(order_id, exc)
        return "refused"
    with transaction.atomic():
        order = lock_order(order_id)
        if order.payment_status not in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
            return "not_due"
        order.capture_payment(reference=result.reference)
        order.save(update_fields=["payment_status", "payment_reference", "updated_at"])
        record_event(
            stream=order.stream,
            type=ORDER_PAYMENT_CAPTURED,
            actor=SYSTEM,
            payload={
                "amount": str(result.amount),
                "currency": result.currency,
                "reference": result.reference,
            },
        )
        if order.status == OrderStatus.DELIVERED:
            order.complete()
            order.save(update_fields=["status", "updated_at"])
            record_event(
                stream=order.stream,
                type=ORDER_STATUS_CHANGED,
                actor=SYSTEM,
                payload={"from": OrderStatus.DELIVERED, "to": order.status},
            )
    return "captured"


def _record_failure(order_id: int, exc: PaymentRefused) -> None:
    with transaction.atomic():
        order = lock_order(order_id)
        if order.payment_status not in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
            return
        order.fail_payment()
        order.save(update_fields=["payment_status", "updated_at"])
        record_event(
            stream=order.stream,
            type=ORDER_PAYMENT_FAILED,
            actor=SYSTEM,
            payload={"code": exc.code, "detail": exc.message},
            subject=order,  # a payment_failed exception case follows (ops/handlers.py)
        )
    logger.warning("payment capture refused", extra={"order": order_id, "code": exc.code})
