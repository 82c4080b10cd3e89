"""What a return refunds: computed from what came back, its disposition and the policy.

Per line, for the units received (or, when the policy refunds before receipt, the units asked
for): the price paid (line total ÷ quantity, after discounts) and its tax. Less:

- the restocking fee (policy percent of the price) on units inspected as damaged or destroyed
  when the customer's reason is not the merchant's fault (`MERCHANT_FAULT_REASONS`);
- the return label fee, when the policy makes the customer pay return shipping and we issued
  the label, unless the reason is the merchant's fault.

Plus the order's shipping, once per order, by the policy's `shipping_refund` rule:
`full_return` when every unit shipped has come back (in this and earlier returns),
`merchant_fault` when any line's reason is the merchant's fault, `never`.

Each figure is rounded half-up to the currency's minor units; what refunds of this return
already took (pending or succeeded) is subtracted. The caller caps the result at what the
payment still allows (`payment_summary(order).refundable`).
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum

from oms.core.money import minor_units
from returns.models import (
    LIVE_RETURN_STATUSES,
    MERCHANT_FAULT_REASONS,
    Refund,
    RefundKind,
    RefundStatus,
    Return,
    ReturnLine,
    ReturnStatus,
    ShippingPaidBy,
    ShippingRefundRule,
)
from returns.policy import returnable_lines

COUNTED_REFUNDS = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)
RECEIVED_STATUSES = (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED, ReturnStatus.CLOSED)


def _q(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RefundQuote:
    currency: str
    merchandise: Decimal
    tax: Decimal
    shipping: Decimal
    restocking_fee: Decimal
    label_fee: Decimal
    already_refunded: Decimal
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return max(
            self.merchandise + self.tax + self.shipping - self.restocking_fee - self.label_fee,
            Decimal("0"),
        )

    @property
    def due(self) -> Decimal:
        return max(self.gross - self.already_refunded, Decimal("0"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "merchandise": str(self.merchandise),
            "tax": str(self.tax),
            "shipping": str(self.shipping),
            "restocking_fee": str(self.restocking_fee),
            "label_fee": str(self.label_fee),
            "gross": str(self.gross),
            "already_refunded": str(self.already_refunded),
            "due": str(self.due),
            "lines": self.lines,
        }


def shipping_already_refunded(order_id: int, excluding_return: int | None = None) -> Decimal:
    total = Decimal("0")
    refunds = Refund.objects.filter(order_id=order_id, status__in=COUNTED_REFUNDS)
    if excluding_return is not None:
        refunds = refunds.exclude(rma_id=excluding_return)
    for breakdown in refunds.values_list("breakdown", flat=True):
        total += Decimal(str((breakdown or {}).get("shipping", "0")))
    return total


def quote_return_refund(rma: Return) -> RefundQuote:
    """The refund the return is worth now (see the module docstring)."""
    order = rma.order
    policy = rma.policy
    currency = rma.currency
    before_receipt = rma.status not in RECEIVED_STATUSES
    inspected = rma.status in (ReturnStatus.INSPECTED, ReturnStatus.CLOSED)
    percent = policy.restocking_fee_percent / Decimal(100)
    merchandise = tax = fee = Decimal("0")
    lines_out: list[dict[str, Any]] = []
    merchant_fault = False
    lines = list(
        ReturnLine.objects.filter(rma=rma)
        .select_related("order_line")
        .order_by("order_line__line_number")
    )
    for line in lines:
        ol = line.order_line
        units = line.quantity if before_receipt else line.received_quantity
        fault = line.reason_code in MERCHANT_FAULT_REASONS
        merchant_fault = merchant_fault or fault
        unit_net = ol.total / ol.quantity
        unit_tax = ol.tax / ol.quantity
        fee_units = 0 if (fault or not inspected) else line.damaged_quantity + line.destroy_quantity
        line_merch = _q(unit_net * units, currency)
        line_tax = _q(unit_tax * units, currency)
        line_fee = _q(unit_net * fee_units * percent, currency)
        merchandise += line_merch
        tax += line_tax
        fee += line_fee
        lines_out.append(
            {
                "line_number": ol.line_number,
                "sku": ol.sku,
                "units": units,
                "fee_units": fee_units,
                "merchandise": str(line_merch),
                "tax": str(line_tax),
                "restocking_fee": str(line_fee),
            }
        )
    shipping = Decimal("0")
    rule = policy.shipping_refund
    if rule == ShippingRefundRule.MERCHANT_FAULT and merchant_fault:
        shipping = order.shipping_total
    elif rule == ShippingRefundRule.FULL_RETURN:
        shipping = order.shipping_total if _everything_back(rma, before_receipt) else Decimal("0")
    shipping = max(
        _q(shipping, currency) - shipping_already_refunded(order.pk, excluding_return=rma.pk),
        Decimal("0"),
    )
    label_fee = Decimal("0")
    if (
        policy.return_shipping_paid_by == ShippingPaidBy.CUSTOMER
        and rma.tracking_number
        and not merchant_fault
    ):
        label_fee = _q(policy.return_label_fee, currency)
    already = Refund.objects.filter(
        rma=rma, kind=RefundKind.RETURN, status__in=COUNTED_REFUNDS
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return RefundQuote(
        currency=currency,
        merchandise=merchandise,
        tax=tax,
        shipping=shipping,
        restocking_fee=fee,
        label_fee=label_fee,
        already_refunded=_q(already, currency),
        lines=lines_out,
    )


def _everything_back(rma: Return, before_receipt: bool) -> bool:
    """Every unit shipped is in this return (received, or asked for before receipt) or in an
    earlier live return of the order."""
    returnable = returnable_lines(rma.order)
    here = {
        line.order_line_id: (line.quantity if before_receipt else line.received_quantity)
        for line in ReturnLine.objects.filter(rma=rma)
    }
    others = dict(
        ReturnLine.objects.filter(
            order_line__order_id=rma.order_id, rma__status__in=LIVE_RETURN_STATUSES
        )
        .exclude(rma=rma)
        .values("order_line_id")
        .annotate(n=Sum("received_quantity"))
        .values_list("order_line_id", "n")
    )
    return all(
        here.get(line_id, 0) + (others.get(line_id) or 0) >= item.shipped
        for line_id, item in returnable.items()
        if item.shipped
    )
