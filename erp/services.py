"""The ERP outbox: queue an invoice per shipment and a credit memo per refund, send them with
retries and backoff, dead-letter them with a case.

`queue_invoice()` and `queue_credit_memo()` run in the transaction of the fact they document
(erp/handlers.py: the shipment's capture, the refund's success), so a document exists exactly
when its fact committed. Its number is unique (`INV-<fulfillment order>`, `CM-<refund id>`):
a second call for the same shipment or refund (the event handled twice, a replay, a race) finds
the first document and queues nothing. Sending follows channels/services/outbound.py:

    claim      short transaction, SKIP LOCKED: attempts + 1, next attempt a lease ahead
    send       no transaction: erp/transport.py (HTTP POST or a file drop)
    record     short transaction: sent (`erp.document_sent`), or the next attempt after backoff
               (30 s · 2^n, ±20 %, capped at 6 h), or dead after OMS_ERP_MAX_ATTEMPTS (or an
               answer a retry cannot fix) with `erp.document_dead`, which opens an
               integration_failed case (ops/erp_handlers.py)

A person sends a dead document again with `retry_document()` (the admin's "Send again").
"""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.adapters.base import CallFailed
from erp import transport
from erp.documents import (
    charge_of,
    credit_memo_body,
    credit_memo_number,
    invoice_body,
    invoice_number,
    platform_credit_memo_body,
    platform_credit_memo_number,
)
from erp.events import (
    ERP_DOCUMENT_DEAD,
    ERP_DOCUMENT_QUEUED,
    ERP_DOCUMENT_RETRIED,
    ERP_DOCUMENT_SENT,
    stream_for_document,
)
from erp.models import DocumentKind, DocumentStatus, ErpDocument
from fulfillment.models import FulfillmentOrder
from oms.core.actors import Actor
from oms.core.errors import DomainError, NotFound
from oms.core.money import format_amount
from oms.core.outbox import sweep_due
from oms.core.transactions import enqueue_on_commit
from oms.events.models import Event
from oms.events.services import record_event
from orders.models import Order, PaymentKind, PaymentTransaction, TransactionStatus
from returns.models import Refund
from webhooks.sending import backoff

logger = logging.getLogger(__name__)
SYSTEM = Actor.system("erp")
LEASE = timedelta(seconds=60)


def _record(document: ErpDocument, type_: str, actor: Actor, **extra: Any) -> Event:
    return record_event(
        stream=stream_for_document(document.pk),
        type=type_,
        actor=actor,
        payload={
            "document": document.number,
            "kind": document.kind,
            "order": document.order.number,
            "reference": document.reference,
            "currency": document.currency,
            "amount": format_amount(document.amount, document.currency),
            "format": document.format,
            **extra,
        },
        subject=document,
    )


def _queue(
    *,
    kind: str,
    number: str,
    order: Order,
    reference: str,
    body: dict[str, Any],
    payment_transaction_id: int | None,
    event: Event | None,
) -> ErpDocument | None:
    if ErpDocument.objects.filter(number=number).exists():
        return None  # already queued: one document per shipment or refund, ever
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin loses on the unique number
            document = ErpDocument.objects.create(
                kind=kind,
                number=number,
                order=order,
                event=event,
                reference=reference,
                payment_transaction_id=payment_transaction_id,
                currency=order.currency,
                amount=Decimal(body["total"]),
                tax=Decimal(body.get("tax") or "0"),
                format=settings.OMS_ERP_FORMAT,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
    except IntegrityError:
        return None
    document.order = order
    _record(document, ERP_DOCUMENT_QUEUED, SYSTEM)
    _send_on_commit(document.pk)
    return document


def queue_invoice(
    *,
    order: Order,
    fulfillment_number: str,
    payment_transaction_id: int | None = None,
    event: Event | None = None,
) -> ErpDocument | None:
    """The invoice of one shipped fulfillment order (None: no ERP, not shipped, or queued)."""
    if not transport.enabled():
        return None
    fulfillment = (
        FulfillmentOrder.objects.select_related("node")
        .filter(order_id=order.pk, number=fulfillment_number)
        .first()
    )
    charge = charge_of(order, fulfillment_number) if fulfillment is not None else None
    if fulfillment is None or charge is None:
        return None
    return _queue(
        kind=DocumentKind.INVOICE,
        number=invoice_number(fulfillment_number),
        order=order,
        reference=fulfillment_number,
        body=invoice_body(order, fulfillment, charge),
        payment_transaction_id=payment_transaction_id,
        event=event,
    )


def queue_credit_memo(*, refund: Refund, event: Event | None = None) -> ErpDocument | None:
    """The credit memo of one succeeded refund (None: no ERP, or already queued)."""
    if not transport.enabled():
        return None
    order = Order.objects.select_related("channel").get(pk=refund.order_id)
    invoices = _invoice_numbers(order)
    return _queue(
        kind=DocumentKind.CREDIT_MEMO,
        number=credit_memo_number(refund.pk),
        order=order,
        reference=f"refund:{refund.pk}",
        body=credit_memo_body(order, refund, invoices),
        payment_transaction_id=refund.payment_transaction_id,
        event=event,
    )


def queue_platform_credit_memo(
    *, order: Order, transaction_id: int, lines: list[dict[str, int]], event: Event | None = None
) -> ErpDocument | None:
    """The credit memo of a refund the sales platform made from the payment it holds and oms
    recorded (channels/services/inbound.py): a succeeded refund transaction with no
    `returns.Refund` behind it (those are credited on `refund.succeeded`). None: no ERP, not such
    a refund, or already queued."""
    if not transport.enabled():
        return None
    tx = PaymentTransaction.objects.filter(
        pk=transaction_id,
        order_id=order.pk,
        kind=PaymentKind.REFUND,
        status=TransactionStatus.SUCCEEDED,
    ).first()
    if tx is None or Refund.objects.filter(idempotency_key=tx.idempotency_key).exists():
        return None
    invoices = _invoice_numbers(order)
    return _queue(
        kind=DocumentKind.CREDIT_MEMO,
        number=platform_credit_memo_number(tx.pk),
        order=order,
        reference=f"payment:{tx.pk}",
        body=platform_credit_memo_body(order, tx, lines, invoices),
        payment_transaction_id=tx.pk,
        event=event,
    )


def _invoice_numbers(order: Order) -> list[str]:
    """The order's invoices so far, oldest first (a credit memo names those it credits)."""
    return list(
        ErpDocument.objects.filter(order_id=order.pk, kind=DocumentKind.INVOICE)
        .order_by("id")
        .values_list("number", flat=True)
    )


def _send_on_commit(document_id: int) -> None:
    # Seam: erp.tasks imports this module, so the task is imported where used.
    from erp.tasks import send_document_task  # noqa: PLC0415

    enqueue_on_commit(send_document_task, document_id)


def _claim(document_id: int) -> ErpDocument | None:
    now = timezone.now()
    with transaction.atomic():
        document = (
            ErpDocument.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=document_id, status=DocumentStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if document is None:
            return None
        document.attempts += 1
        document.next_attempt_at = now + LEASE
        document.save(update_fields=["attempts", "next_attempt_at"])
    return document


def send_document(document_id: int) -> str | None:
    """One attempt at a due pending document; its resulting status (None: not due or taken)."""
    document = _claim(document_id)
    if document is None:
        return None
    try:
        delivered = transport.deliver(document)
    except CallFailed as exc:
        return _finish(document.pk, error=exc)
    return _finish(document.pk, delivered=delivered)


def _finish(
    document_id: int,
    *,
    delivered: transport.Delivered | None = None,
    error: CallFailed | None = None,
) -> str:
    now = timezone.now()
    with transaction.atomic():
        document = (
            ErpDocument.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=document_id)
        )
        if document.status != DocumentStatus.PENDING:
            return document.status  # another sender finished it (its lease ran out meanwhile)
        if delivered is not None:
            document.delivered(at=now, target=delivered.target, status_code=delivered.status_code)
            document.response = delivered.response
            document.save()
            _record(document, ERP_DOCUMENT_SENT, SYSTEM, target=document.target)
            return document.status
        if error is None:
            raise TypeError("_finish needs delivered or error")
        document.last_status_code = error.status
        document.last_error = error.detail[:500]
        if not error.retryable or document.attempts >= settings.OMS_ERP_MAX_ATTEMPTS:
            document.give_up()
        else:
            document.next_attempt_at = now + timedelta(seconds=backoff(document.attempts))
        document.save()
        if document.status == DocumentStatus.DEAD:
            _record(
                document,
                ERP_DOCUMENT_DEAD,
                SYSTEM,
                attempts=document.attempts,
                status_code=document.last_status_code,
                error=document.last_error,
            )
    logger.info(
        "erp document not delivered",
        extra={
            "document": document.number,
            "status": error.status,
            "dead": document.status == DocumentStatus.DEAD,
        },
    )
    return document.status


class DocumentNotRetryable(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="document_not_retryable", detail=detail, http_status=409)


def retry_document(*, document_id: int, actor: Actor) -> ErpDocument:
    """A person sends a dead document again (after fixing the endpoint or the ERP's master
    data): pending and due now, with a fresh budget of attempts."""
    with transaction.atomic():
        document = (
            ErpDocument.objects.select_for_update(of=("self",))
            .select_related("order")
            .filter(pk=document_id)
            .first()
        )
        if document is None:
            raise NotFound(f"No ERP document {document_id}.", code="document_not_found")
        if document.status != DocumentStatus.DEAD:
            raise DocumentNotRetryable(
                f"{document.number} is {document.status}; only dead documents are sent again."
            )
        document.retry(at=timezone.now())
        document.save(update_fields=["status", "attempts", "next_attempt_at"])
        _record(document, ERP_DOCUMENT_RETRIED, actor)
        _send_on_commit(document.pk)
    return document


def send_due_documents(*, limit: int = 200) -> dict[str, int]:
    """The sweeper (beat): every due pending document, one attempt each."""
    due = ErpDocument.objects.filter(
        status=DocumentStatus.PENDING, next_attempt_at__lte=timezone.now()
    )
    return sweep_due(due, send_document, limit=limit)
