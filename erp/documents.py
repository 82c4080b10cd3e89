"""What an invoice and a credit memo say (the JSON body kept on the `ErpDocument`).

An invoice is one shipment (a fulfillment order) and says what its capture charged: the shipped
units' share of each line (net and tax) and, on the order's first shipment, the shipping and its
tax, computed by the same function that computed the capture
(`fulfillment.services.payment_capture.shipment_charges`), so an invoice's total is the capture's
amount, to the cent, and the payments export's `settled_amount` of that capture. A credit memo
is one refund (`returns.Refund`) and its total is the refund's amount, the refunds export's
`amount`; a refund the sales platform paid and oms only recorded (no `returns.Refund`) has one
too, numbered after its payment transaction. Amounts are strings with exactly the currency's
minor units (USD 2, JPY 0, KWD 3).
"""

from decimal import Decimal
from typing import Any

from django.utils import timezone

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.payment_capture import ShipmentCharge, shipment_charges
from oms.core.money import format_amount
from orders.models import Order, OrderLine, PaymentTransaction
from returns.models import Refund


def invoice_number(fulfillment_number: str) -> str:
    return f"INV-{fulfillment_number}"


def credit_memo_number(refund_id: int) -> str:
    return f"CM-{refund_id:08d}"


def platform_credit_memo_number(transaction_id: int) -> str:
    """A refund the sales platform made and oms recorded (no `returns.Refund` behind it)."""
    return f"CM-P{transaction_id:08d}"


def _party(order: Order) -> dict[str, Any]:
    return {
        "name": order.ship_name or order.customer_name,
        "line1": order.ship_line1,
        "line2": order.ship_line2,
        "city": order.ship_city,
        "region": order.ship_region,
        "postal_code": order.ship_postal_code,
        "country": order.ship_country,
    }


def _head(order: Order, kind: str, number: str) -> dict[str, Any]:
    return {
        "type": kind,
        "number": number,
        "date": timezone.localdate().isoformat(),
        "order": order.number,
        "external_id": order.external_id,
        "channel": order.channel.code,
        "placed_at": order.placed_at.isoformat(),
        "currency": order.currency,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "ship_to": _party(order),
    }


def charge_of(order: Order, fulfillment_number: str) -> ShipmentCharge | None:
    return next((c for c in shipment_charges(order) if c.fulfillment == fulfillment_number), None)


def invoice_body(order: Order, fulfillment: FulfillmentOrder, charge: ShipmentCharge) -> dict:
    money = order.currency
    lines = {line.pk: line for line in OrderLine.objects.filter(order_id=order.pk)}
    parcels = Shipment.objects.filter(fulfillment_id=fulfillment.pk).order_by("id")
    tax = charge.shipping_tax + sum((part.tax for part in charge.lines), Decimal("0"))
    return {
        **_head(order, "invoice", invoice_number(fulfillment.number)),
        "shipment": fulfillment.number,
        "node": fulfillment.node.code,
        "shipped_at": fulfillment.shipped_at.isoformat() if fulfillment.shipped_at else None,
        "parcels": [{"carrier": p.carrier, "tracking_number": p.tracking_number} for p in parcels],
        "lines": [
            {
                "line_number": lines[part.line_id].line_number,
                "sku": lines[part.line_id].sku,
                "name": lines[part.line_id].name,
                "quantity": part.units,
                "unit_price": format_amount(lines[part.line_id].unit_price, money),
                "net": format_amount(part.amount - part.tax, money),
                "tax": format_amount(part.tax, money),
                "amount": format_amount(part.amount, money),
            }
            for part in charge.lines
        ],
        "shipping": format_amount(charge.shipping, money),
        "shipping_tax": format_amount(charge.shipping_tax, money),
        "tax": format_amount(tax, money),
        "total": format_amount(charge.amount, money),
    }


def credit_memo_body(order: Order, refund: Refund, invoices: list[str]) -> dict:
    money = order.currency
    rma = refund.rma
    returned = (
        [
            {
                "line_number": line.order_line.line_number,
                "sku": line.order_line.sku,
                "quantity": line.quantity,
                "received": line.received_quantity,
                "restocked": line.restock_quantity,
                "reason": line.reason_code,
            }
            for line in rma.lines.select_related("order_line")
        ]
        if rma is not None
        else []
    )
    return {
        **_head(order, "credit_memo", credit_memo_number(refund.pk)),
        "refund": refund.pk,
        "kind": refund.kind,
        "reason_code": refund.reason_code,
        "return": rma.number if rma is not None else None,
        "credits_invoices": invoices,
        "returned_lines": returned,
        "breakdown": refund.breakdown,
        "refunded_at": refund.refunded_at.isoformat() if refund.refunded_at else None,
        "payment_transaction": refund.payment_transaction_id,
        "provider_reference": refund.provider_reference,
        "total": format_amount(refund.amount, money),
    }


def platform_credit_memo_body(
    order: Order, tx: PaymentTransaction, lines: list[dict[str, int]], invoices: list[str]
) -> dict:
    """The credit memo of a refund the sales platform paid from the payment it holds
    (orders/payments/held.py): its amount is the payment transaction's, the payments export's
    `settled_amount` of that refund with the sign turned; `lines` are the units it named."""
    skus = dict(order.lines.values_list("line_number", "sku"))
    return {
        **_head(order, "credit_memo", platform_credit_memo_number(tx.pk)),
        "refund": None,
        "kind": "platform_refund",
        "reason_code": "",
        "reason": tx.reason,
        "return": None,
        "credits_invoices": invoices,
        "returned_lines": [
            {
                "line_number": line["line_number"],
                "sku": skus.get(line["line_number"], ""),
                "quantity": line["quantity"],
            }
            for line in lines
        ],
        "breakdown": None,
        "refunded_at": tx.updated_at.isoformat(),
        "payment_transaction": tx.pk,
        "provider_reference": tx.provider_reference,
        "total": format_amount(tx.amount, order.currency),
    }
