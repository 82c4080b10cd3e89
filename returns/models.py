"""Returns (RMAs), their lines and inspection, return policies, refunds and exchanges.

Statuses are protected FSM fields whose transitions only assign fields; the services in
returns/services/ lock the order (the stream's root), then the return, call the transition,
save with update_fields and record the event on the order's stream.

```
requested → authorized → in_transit → received → inspected → closed
     ↘ rejected   ↘ (received at once: a store counter, a parcel back to sender)
requested | authorized | in_transit → cancelled
```
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import Node
from oms.core.models import TimeStampedModel
from orders.models import Channel, Order, OrderLine, money_field


class ShippingPaidBy(models.TextChoices):
    CUSTOMER = "customer", "Customer (the label fee is deducted)"
    MERCHANT = "merchant", "Merchant"


class ShippingRefundRule(models.TextChoices):
    NEVER = "never", "Never"
    FULL_RETURN = "full_return", "When every unit shipped comes back"
    MERCHANT_FAULT = "merchant_fault", "When the return is the merchant's fault"


class ReturnPolicy(TimeStampedModel):
    """A version of a channel's return policy (or the default, channel empty): versioned,
    validated data (returns/policy.py). The newest active version applies to new returns;
    each return keeps the version it was accepted under."""

    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="return_policies"
    )
    version = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    window_days = models.PositiveIntegerField(default=30)
    non_returnable_skus = models.JSONField(default=list, blank=True)
    restocking_fee_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0")
    )
    return_shipping_paid_by = models.CharField(
        max_length=10, choices=ShippingPaidBy.choices, default=ShippingPaidBy.MERCHANT
    )
    return_label_fee = money_field(help_text="Deducted when the customer pays return shipping.")
    shipping_refund = models.CharField(
        max_length=16, choices=ShippingRefundRule.choices, default=ShippingRefundRule.FULL_RETURN
    )
    refund_before_receipt = models.BooleanField(default=False)
    advance_exchange_days = models.PositiveIntegerField(default=14)
    # Appeasement (goodwill refund) limits per role, e.g. {"customer_service": "25.00"}.
    appeasement_limits = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["channel_id", "-version"]
        verbose_name_plural = "return policies"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "version"],
                condition=Q(channel__isnull=False),
                name="return_policy_channel_version_unique",
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(channel__isnull=True),
                name="return_policy_default_version_unique",
            ),
        ]

    def __str__(self) -> str:
        scope = self.channel.code if self.channel_id and self.channel else "default"
        return f"Return policy {scope} v{self.version}"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    AUTHORIZED = "authorized", "Authorized"
    IN_TRANSIT = "in_transit", "In transit"
    RECEIVED = "received", "Received"
    INSPECTED = "inspected", "Inspected"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_RETURN_STATUSES = [
    ReturnStatus.REQUESTED,
    ReturnStatus.AUTHORIZED,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
]
# Units of these returns count against what may still be returned.
LIVE_RETURN_STATUSES = [*OPEN_RETURN_STATUSES, ReturnStatus.CLOSED]
RECEIVABLE_STATUSES = [ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT]
# Nothing came back yet: the return may still be cancelled.
CANCELLABLE_STATUSES = [ReturnStatus.REQUESTED, *RECEIVABLE_STATUSES]


class ReturnSource(models.TextChoices):
    API = "api", "API (channel)"
    ADMIN = "admin", "Customer service"
    RETURNED_TO_SENDER = "returned_to_sender", "Carrier: returned to sender"
    CANCEL_REFUSED = "cancel_refused", "Cancel refused: already shipped"


class ExchangeKind(models.TextChoices):
    NONE = "", "No exchange (refund)"
    EVEN = "even", "Even exchange (ships when the return is received)"
    ADVANCE = "advance", "Advance exchange (ships now)"


class Return(FSMModelMixin, TimeStampedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=24, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = FSMField(
        max_length=12,
        choices=ReturnStatus.choices,
        default=ReturnStatus.REQUESTED,
        protected=True,
    )
    source = models.CharField(max_length=20, choices=ReturnSource.choices)
    policy = models.ForeignKey(ReturnPolicy, on_delete=models.PROTECT, related_name="returns")
    currency = models.CharField(max_length=3)
    exchange_kind = models.CharField(
        max_length=8, choices=ExchangeKind.choices, default=ExchangeKind.NONE, blank=True
    )
    customer_note = models.CharField(max_length=500, blank=True)
    return_node = models.ForeignKey(
        Node,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expected_returns",
        help_text="Where the parcel is expected (the label's address).",
    )
    received_node = models.ForeignKey(
        Node, on_delete=models.PROTECT, null=True, blank=True, related_name="received_returns"
    )
    # The return label (returns/services/labels.py).
    label_carrier = models.CharField(max_length=50, blank=True)
    label_service = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)
    label_url = models.URLField(max_length=500, blank=True)
    label_pdf = models.BinaryField(null=True, blank=True, editable=False)
    label_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # The shipment that came back to sender, for returns the carrier started (one per parcel).
    source_shipment = models.OneToOneField(
        "fulfillment.Shipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returned_as",
    )
    created_by = models.CharField(max_length=200, blank=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    refused_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["order", "status"], name="return_order_status_idx"),
            models.Index(fields=["status", "return_node"], name="return_status_node_idx"),
            models.Index(fields=["received_at"], name="return_received_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RETURN_STATUSES

    # --- transitions (fields only) -------------------------------------------------------
    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.AUTHORIZED)
    def authorize(self, *, at: datetime) -> None:
        self.authorized_at = at

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.REJECTED)
    def reject(self, *, reason: str, at: datetime) -> None:
        self.refused_reason = reason[:300]
        self.closed_at = at

    @transition(field=status, source=ReturnStatus.AUTHORIZED, target=ReturnStatus.IN_TRANSIT)
    def mark_in_transit(self) -> None:
        """The customer's parcel was scanned by the carrier."""

    @transition(field=status, source=RECEIVABLE_STATUSES, target=ReturnStatus.RECEIVED)
    def receive(self, *, node: Node, at: datetime) -> None:
        self.received_node = node
        self.received_at = at

    @transition(field=status, source=ReturnStatus.RECEIVED, target=ReturnStatus.INSPECTED)
    def mark_inspected(self, *, at: datetime) -> None:
        self.inspected_at = at

    @transition(
        field=status,
        source=[ReturnStatus.INSPECTED, ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT],
        target=ReturnStatus.CLOSED,
    )
    def close(self, *, at: datetime) -> None:
        """Inspected and settled; or refunded before receipt and never coming back."""
        self.closed_at = at

    @transition(
        field=status,
        source=[ReturnStatus.REQUESTED, ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT],
        target=ReturnStatus.CANCELLED,
    )
    def cancel(self, *, reason: str, at: datetime) -> None:
        self.refused_reason = reason[:300]
        self.closed_at = at


class ReasonCode(models.TextChoices):
    NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
    SIZE_FIT = "size_fit", "Size or fit"
    CHANGED_MIND = "changed_mind", "Changed mind"
    DAMAGED = "damaged", "Arrived damaged"
    DEFECTIVE = "defective", "Defective"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    ARRIVED_LATE = "arrived_late", "Arrived late"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender by the carrier"
    CANCEL_REFUSED = "cancel_refused", "Cancelled after it shipped"
    OTHER = "other", "Other"


# The merchant's fault: no restocking fee, and (policy permitting) the shipping is refunded.
MERCHANT_FAULT_REASONS = frozenset(
    {
        ReasonCode.DAMAGED,
        ReasonCode.DEFECTIVE,
        ReasonCode.WRONG_ITEM,
        ReasonCode.NOT_AS_DESCRIBED,
        ReasonCode.ARRIVED_LATE,
    }
)


class Condition(models.TextChoices):
    UNOPENED = "unopened", "Unopened"
    OPENED = "opened", "Opened"
    USED = "used", "Used"
    DAMAGED = "damaged", "Damaged"
    UNKNOWN = "unknown", "Unknown"


class Disposition(models.TextChoices):
    RESTOCK = "restock", "Restock (back on sale)"
    DAMAGED = "damaged", "Damaged (write off)"
    VENDOR_RETURN = "vendor_return", "Return to vendor"
    DESTROY = "destroy", "Destroy"


class ReturnLine(TimeStampedModel):
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    reason_code = models.CharField(max_length=24, choices=ReasonCode.choices)
    condition_reported = models.CharField(
        max_length=10, choices=Condition.choices, default=Condition.UNKNOWN
    )
    received_quantity = models.PositiveIntegerField(default=0)
    # Units the receiving node reported damaged on arrival (an X12 944's W13): the inspection
    # starts from them; the inspector's dispositions decide.
    reported_damaged_quantity = models.PositiveIntegerField(default=0)
    # Inspection: a disposition for every unit received (they add up to received_quantity).
    restock_quantity = models.PositiveIntegerField(default=0)
    damaged_quantity = models.PositiveIntegerField(default=0)
    vendor_return_quantity = models.PositiveIntegerField(default=0)
    destroy_quantity = models.PositiveIntegerField(default=0)
    inspection_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rma_id", "order_line__line_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rma", "order_line"], name="return_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=models.F("quantity")),
                name="return_line_received_lte_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rma_id}/{self.order_line_id} × {self.quantity}"

    @property
    def inspected_quantity(self) -> int:
        return (
            self.restock_quantity
            + self.damaged_quantity
            + self.vendor_return_quantity
            + self.destroy_quantity
        )

    def disposition_counts(self) -> dict[str, int]:
        return {
            Disposition.RESTOCK: self.restock_quantity,
            Disposition.DAMAGED: self.damaged_quantity,
            Disposition.VENDOR_RETURN: self.vendor_return_quantity,
            Disposition.DESTROY: self.destroy_quantity,
        }


class RefundKind(models.TextChoices):
    RETURN = "return", "Return"
    APPEASEMENT = "appeasement", "Appeasement (goodwill, no return)"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


class AppeasementReason(models.TextChoices):
    LATE_DELIVERY = "late_delivery", "Late delivery"
    DAMAGED_PACKAGING = "damaged_packaging", "Damaged packaging"
    SERVICE_RECOVERY = "service_recovery", "Service recovery"
    PRICE_ADJUSTMENT = "price_adjustment", "Price adjustment"
    OTHER = "other", "Other"


class Refund(FSMModelMixin, TimeStampedModel):
    """Money back to the customer, through the payments service (orders/services/payments.py)
    with `idempotency_key` as the provider's key: one successful refund per row, ever."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    rma = models.ForeignKey(
        Return, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    kind = models.CharField(max_length=12, choices=RefundKind.choices)
    status = FSMField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING, protected=True
    )
    amount = money_field()
    currency = models.CharField(max_length=3)
    breakdown = models.JSONField(default=dict, blank=True)
    reason_code = models.CharField(max_length=24, blank=True)
    note = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    payment_transaction_id = models.BigIntegerField(null=True, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.CharField(max_length=200, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(kind="appeasement", rma__isnull=True)
                | Q(kind="return", rma__isnull=False),
                name="refund_kind_matches_return",
            ),
        ]
        indexes = [models.Index(fields=["refunded_at"], name="refund_refunded_at_idx")]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} ({self.status})"

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.SUCCEEDED)
    def succeed(self, *, transaction_id: int | None, reference: str, at: datetime) -> None:
        self.payment_transaction_id = transaction_id
        self.provider_reference = reference[:100]
        self.refunded_at = at
        self.error_code = ""
        self.error_message = ""

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.FAILED)
    def fail(self, *, code: str, message: str, transaction_id: int | None) -> None:
        self.payment_transaction_id = transaction_id
        self.error_code = code[:64]
        self.error_message = message[:300]

    @transition(field=status, source=RefundStatus.FAILED, target=RefundStatus.PENDING)
    def retry(self) -> None:
        """A person fixed the cause; the same provider key is tried again."""


class ExchangeStatus(models.TextChoices):
    AWAITING_RETURN = "awaiting_return", "Awaiting the return"
    REPLACEMENT_PLACED = "replacement_placed", "Replacement placed"
    COMPLETED = "completed", "Completed"
    CHARGED = "charged", "Charged (never returned)"
    CANCELLED = "cancelled", "Cancelled"


class Exchange(FSMModelMixin, TimeStampedModel):
    """A replacement for returned units: a linked order captured through `capture_order` on the
    same channel at no charge. Even: placed when the return is received. Advance: placed at
    once; if the return is not received by `due_at`, the replacement is charged."""

    rma = models.OneToOneField(Return, on_delete=models.PROTECT, related_name="exchange")
    kind = models.CharField(max_length=8, choices=ExchangeKind.choices)
    status = FSMField(
        max_length=20,
        choices=ExchangeStatus.choices,
        default=ExchangeStatus.AWAITING_RETURN,
        protected=True,
    )
    # [{"order_line": id, "sku": "...", "quantity": n}]: what the customer gets instead.
    items = models.JSONField(default=list)
    replacement_order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacement_for",
    )
    value = money_field(help_text="What the replacement is worth (charged if never returned).")
    currency = models.CharField(max_length=3)
    due_at = models.DateTimeField(null=True, blank=True)
    charged_at = models.DateTimeField(null=True, blank=True)
    charge_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="exchange_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.rma_id}"

    @transition(
        field=status,
        source=ExchangeStatus.AWAITING_RETURN,
        target=ExchangeStatus.REPLACEMENT_PLACED,
    )
    def place_replacement(self, *, order: Order) -> None:
        self.replacement_order = order

    @transition(
        field=status,
        source=[ExchangeStatus.AWAITING_RETURN, ExchangeStatus.REPLACEMENT_PLACED],
        target=ExchangeStatus.COMPLETED,
    )
    def complete(self) -> None:
        """The return came back and the replacement is on its way."""

    @transition(
        field=status, source=ExchangeStatus.REPLACEMENT_PLACED, target=ExchangeStatus.CHARGED
    )
    def charge(self, *, reference: str, at: datetime) -> None:
        self.charge_reference = reference[:100]
        self.charged_at = at

    @transition(
        field=status,
        source=[ExchangeStatus.AWAITING_RETURN, ExchangeStatus.REPLACEMENT_PLACED],
        target=ExchangeStatus.CANCELLED,
    )
    def cancel(self) -> None:
        pass


def policy_snapshot(policy: ReturnPolicy) -> dict[str, Any]:
    """The policy's terms as data (events, the API)."""
    return {
        "version": policy.version,
        "channel": policy.channel.code if policy.channel_id and policy.channel else None,
        "window_days": policy.window_days,
        "non_returnable_skus": list(policy.non_returnable_skus),
        "restocking_fee_percent": str(policy.restocking_fee_percent),
        "return_shipping_paid_by": policy.return_shipping_paid_by,
        "return_label_fee": str(policy.return_label_fee),
        "shipping_refund": policy.shipping_refund,
        "refund_before_receipt": policy.refund_before_receipt,
        "advance_exchange_days": policy.advance_exchange_days,
        "appeasement_limits": dict(policy.appeasement_limits),
    }
