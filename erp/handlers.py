"""What the ERP connector does when the layers below record a fact (oms/events/handlers.py).

In the same transaction as the event:

- `order.payment_captured` (subject: the capture's transaction): the invoice of the shipment
  it charged (`shipment` in the payload);
- `fulfillment.shipped` (the fulfillment order): its invoice, only for an order that arrived
  paid (no capture will come);
- `refund.succeeded` (the refund): its credit memo;
- `order.payment_refunded` (the order): the credit memo of a refund the sales platform made
  from the payment it holds, recorded without a `returns.Refund` (a return's or an
  appeasement's refund is credited on `refund.succeeded` instead).
"""

from typing import Any

from erp.services import queue_credit_memo, queue_invoice, queue_platform_credit_memo
from oms.events.handlers import on_event
from oms.events.models import Event
from orders.models import Order, PaymentKind, PaymentStatus, PaymentTransaction
from returns.models import Refund


@on_event("order.payment_captured")
def invoice_capture(event: Event, tx: Any) -> None:
    shipment = event.payload.get("shipment")
    if not isinstance(tx, PaymentTransaction) or not shipment:
        return
    order = Order.objects.select_related("channel").get(pk=tx.order_id)
    queue_invoice(
        order=order, fulfillment_number=shipment, payment_transaction_id=tx.pk, event=event
    )


@on_event("fulfillment.shipped")
def invoice_prepaid_shipment(event: Event, fulfillment: Any) -> None:
    order = Order.objects.select_related("channel").get(pk=fulfillment.order_id)
    captures = PaymentTransaction.objects.filter(order_id=order.pk, kind=PaymentKind.CAPTURE)
    if order.payment_status != PaymentStatus.PAID or captures.exists():
        return  # the capture of this shipment will invoice it
    queue_invoice(order=order, fulfillment_number=fulfillment.number, event=event)


@on_event("refund.succeeded")
def credit_refund(event: Event, refund: Any) -> None:
    if isinstance(refund, Refund):
        queue_credit_memo(refund=refund, event=event)


@on_event("order.payment_refunded")
def credit_platform_refund(event: Event, order: Any) -> None:
    if isinstance(order, Order) and event.payload.get("transaction"):
        queue_platform_credit_memo(
            order=Order.objects.select_related("channel").get(pk=order.pk),
            transaction_id=int(event.payload["transaction"]),
            lines=list(event.payload.get("lines") or []),
            event=event,
        )
