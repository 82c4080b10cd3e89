"""Channels, the API clients that speak for them, and orders with their lines and holds.

Statuses are protected FSM fields: the transitions below only assign fields. Services in
orders/services/ lock the row, call the transition, save with update_fields and record the event.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from inventory.models import Node, Product
from oms.core.models import TimeStampedModel
from oms.core.money import DECIMAL_PLACES, MAX_DIGITS
from orders.ownership import OrderOwner


def money_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=Decimal("0"), **kwargs
    )


class Channel(TimeStampedModel):
    """A sales channel: web shop, POS, a marketplace, wholesale."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    default_currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    # The channel's approved cutover plan, copied here when it is approved
    # (orders.services.channels.set_channel_cutover, called by migration's approve_plan) so that
    # capture decides who owns an order from the channel row it has already loaded, with no
    # extra statement (orders/ownership.py). Empty mode: no plan, oms owns every order.
    cutover_mode = models.CharField(max_length=10, blank=True, default="")
    cutover_share = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    cutover_narrowing = models.JSONField(default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ApiClientQuerySet(models.QuerySet["ApiClient"]):
    def authenticating(self, prefix: str) -> "ApiClientQuerySet":
        """The row of a key's prefix, with the channel the API views read next (the port of
        oms/api/clients.py)."""
        return self.select_related("channel").filter(prefix=prefix)


class ApiClient(TimeStampedModel):
    """A system that calls the API on behalf of exactly one channel (a web shop, a POS) or one
    node (a WMS, a 3PL, a store system sending fulfillment feedback).

    The key is shown once at creation; only its SHA-256 is stored (keys are 256-bit random, so
    a fast hash is enough: there is nothing to brute-force). `prefix` finds the row without
    scanning, and is safe to show in the admin and logs.
    """

    name = models.CharField(max_length=100)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="api_clients", null=True, blank=True
    )
    node = models.ForeignKey(
        Node, on_delete=models.PROTECT, related_name="api_clients", null=True, blank=True
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_used_at", "key_hash"])

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(channel__isnull=False) & Q(node__isnull=True))
                | (Q(channel__isnull=True) & Q(node__isnull=False)),
                name="apiclient_exactly_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.scope_label})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_label(self) -> str:
        if self.channel is not None:
            return f"channel {self.channel.code}"
        # apiclient_exactly_one_scope: without a channel there is a node.
        return f"node {cast(Node, self.node).code}"


class OrderStatus(models.TextChoices):
    CREATED = "created", "Created"
    BACKORDERED = "backordered", "Backordered"
    ALLOCATED = "allocated", "Allocated"
    RELEASED = "released", "Released to nodes"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    HANDED_BACK = "handed_back", "Handed back to the legacy system"


PROGRESS_SOURCES = [
    OrderStatus.CREATED,
    OrderStatus.BACKORDERED,
    OrderStatus.ALLOCATED,
    OrderStatus.RELEASED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
]

OPEN_ORDER_STATUSES = [
    OrderStatus.CREATED,
    OrderStatus.BACKORDERED,
    OrderStatus.ALLOCATED,
    OrderStatus.RELEASED,
    OrderStatus.PARTIALLY_SHIPPED,
]


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AUTHORIZED = "authorized", "Authorized"
    PAID = "paid", "Paid (captured)"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    VOIDED = "voided", "Voided (authorization released)"


class DeliveryMethod(models.TextChoices):
    SHIP = "ship", "Ship to address"
    PICKUP = "pickup", "Pick up in store"
    CURBSIDE = "curbside", "Curbside pickup"


class ServiceLevel(models.TextChoices):
    STANDARD = "standard", "Standard"
    EXPRESS = "express", "Express"
    SAME_DAY = "same_day", "Same day"


class OrderQuerySet(models.QuerySet["Order"]):
    def for_channel(self, channel_id: int | None) -> "OrderQuerySet":
        return self.filter(channel_id=channel_id)

    def open(self) -> "OrderQuerySet":
        return self.filter(status__in=OPEN_ORDER_STATUSES)


class Order(FSMModelMixin, TimeStampedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=20, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=100)
    status = FSMField(
        max_length=24, choices=OrderStatus.choices, default=OrderStatus.CREATED, protected=True
    )
    payment_status = FSMField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, protected=True
    )
    payment_reference = models.CharField(max_length=100, blank=True)
    payment_method = models.CharField(max_length=50, blank=True)
    placed_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    subtotal = money_field(help_text="Sum of line totals before order-level shipping and tax.")
    shipping_total = money_field()
    discount_total = money_field()
    tax_total = money_field()
    grand_total = money_field()

    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField(max_length=254, blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)

    delivery_method = models.CharField(
        max_length=10, choices=DeliveryMethod.choices, default=DeliveryMethod.SHIP
    )
    service_level = models.CharField(
        max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    pickup_node = models.ForeignKey(
        Node, on_delete=models.PROTECT, null=True, blank=True, related_name="pickup_orders"
    )
    ship_name = models.CharField(max_length=200, blank=True)
    ship_line1 = models.CharField(max_length=200, blank=True)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100, blank=True)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_postal_code = models.CharField(max_length=20, blank=True)
    ship_country = models.CharField(max_length=2, blank=True)
    ship_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    ship_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    internal_notes = models.TextField(
        blank=True, help_text="Customer service's notes; never sent to the channel or a node."
    )

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    # Which system owns the order (orders/ownership.py, docs/migration.md "Cutover"): decided
    # at capture from the channel's cutover plan; only an oms order is routed, reserved and sent.
    owner = FSMField(
        max_length=10, choices=OrderOwner.choices, default=OrderOwner.OMS, protected=True
    )
    is_legacy_mirror = models.BooleanField(
        default=False, help_text="Mirrored in from the legacy system, which already has it."
    )
    handed_back_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="order_channel_external_id_unique"
            ),
            models.CheckConstraint(
                condition=~Q(delivery_method="ship") | ~Q(ship_line1=""),
                name="order_ship_needs_address",
            ),
            models.CheckConstraint(
                condition=Q(delivery_method="ship") | Q(pickup_node__isnull=False),
                name="order_pickup_needs_node",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-placed_at"], name="order_channel_placed_idx"),
            models.Index(fields=["customer_email"], name="order_email_idx"),
            models.Index(fields=["status", "-placed_at"], name="order_status_placed_idx"),
            models.Index(fields=["-created_at", "-id"], name="order_created_idx"),
            # KPIs by placement day across all channels, index-only (ops/kpis/selectors.py,
            # bench/kpi_bench.py): orders captured, and the recent orders the shipping KPIs join.
            # Key columns rather than INCLUDE, which SQLite (the demo) does not have.
            models.Index(
                fields=["placed_at", "id", "channel", "status"], name="order_placed_cover_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def stream(self) -> str:
        """The event stream of this order: its fulfillments and returns belong to it too."""
        return stream_for_order(self.number)

    # --- transitions (fields only) -------------------------------------------------------
    @transition(
        field=status,
        source=[OrderStatus.CREATED, OrderStatus.BACKORDERED, OrderStatus.ALLOCATED],
        target=OrderStatus.HANDED_BACK,
    )
    def hand_back(self, *, at: datetime) -> None:
        """Rolled back before any node had it: the legacy system finishes it."""
        self.handed_back_at = at

    @transition(field=owner, source=[OrderOwner.OMS, OrderOwner.SHADOW], target=OrderOwner.LEGACY)
    def give_to_legacy(self) -> None:
        """The legacy system owns the order from now on."""

    @transition(
        field=status,
        source=[
            OrderStatus.CREATED,
            OrderStatus.BACKORDERED,
            OrderStatus.ALLOCATED,
            OrderStatus.RELEASED,
        ],
        target=OrderStatus.CANCELLED,
    )
    def cancel(self, *, reason: str, at: datetime) -> None:
        self.cancelled_at = at
        self.cancel_reason = reason[:200]

    # Progress transitions, chosen by fulfillment/services/rollup.py from the lines' state.
    # Their sources are wide on purpose: a rejection or short pick can send an order back
    # from released to backordered, and a partial shipment can come before the rest is
    # allocated. Cancelled and completed are terminal.
    @transition(field=status, source=PROGRESS_SOURCES, target=OrderStatus.BACKORDERED)
    def mark_backordered(self) -> None:
        """Some quantity waits for stock."""

    @transition(field=status, source=PROGRESS_SOURCES, target=OrderStatus.ALLOCATED)
    def mark_allocated(self) -> None:
        """Everything is reserved; some of it is not yet released to its node."""

    @transition(field=status, source=PROGRESS_SOURCES, target=OrderStatus.RELEASED)
    def mark_released(self) -> None:
        """Everything not yet shipped is at its nodes."""

    @transition(field=status, source=PROGRESS_SOURCES, target=OrderStatus.PARTIALLY_SHIPPED)
    def mark_partially_shipped(self) -> None:
        """Some quantity has shipped."""

    @transition(field=status, source=PROGRESS_SOURCES, target=OrderStatus.SHIPPED)
    def mark_shipped(self) -> None:
        """Every line has shipped (or been picked up)."""

    @transition(field=status, source=PROGRESS_SOURCES, target=OrderStatus.DELIVERED)
    def mark_delivered(self) -> None:
        """Every line has been delivered or picked up."""

    @transition(
        field=status,
        source=OrderStatus.DELIVERED,
        target=OrderStatus.COMPLETED,
        # django-fsm types a condition's argument as Model; it is the Order.
        conditions=[lambda order: cast(Order, order).payment_status == PaymentStatus.PAID],
    )
    def complete(self) -> None:
        """Delivered and paid: nothing left to do."""

    @transition(
        field=payment_status,
        source=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED],
        target=PaymentStatus.PAID,
    )
    def capture_payment(self, *, reference: str) -> None:
        self.payment_reference = reference or self.payment_reference

    @transition(
        field=payment_status,
        source=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED],
        target=PaymentStatus.FAILED,
    )
    def fail_payment(self) -> None:
        """The provider refused the capture."""

    @transition(field=payment_status, source=PaymentStatus.PENDING, target=PaymentStatus.AUTHORIZED)
    def authorize_payment(self, *, reference: str) -> None:
        self.payment_reference = reference or self.payment_reference

    @transition(
        field=payment_status,
        source=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED],
        target=PaymentStatus.VOIDED,
    )
    def void_payment(self) -> None:
        """Nothing will be charged: the authorization was released (a cancelled order)."""

    @transition(field=payment_status, source=PaymentStatus.AUTHORIZED, target=PaymentStatus.PAID)
    def settle_at_zero(self) -> None:
        """Nothing is owed and nothing was charged (an advance exchange's replacement whose
        return came back in time): the card on file no longer stands behind the order."""

    @transition(field=payment_status, source=PaymentStatus.PAID, target=PaymentStatus.REFUNDED)
    def mark_refunded(self) -> None:
        """Everything captured has been refunded."""


def stream_for_order(number: str) -> str:
    return f"order:{number}"


class LineStatus(models.TextChoices):
    OPEN = "open", "Open"
    BACKORDERED = "backordered", "Backordered"
    ALLOCATED = "allocated", "Allocated"
    RELEASED = "released", "Released"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    HANDED_BACK = "handed_back", "Handed back to the legacy system"


LINE_PROGRESS_SOURCES = [
    LineStatus.OPEN,
    LineStatus.BACKORDERED,
    LineStatus.ALLOCATED,
    LineStatus.RELEASED,
    LineStatus.SHIPPED,
    LineStatus.DELIVERED,
]


class OrderLine(FSMModelMixin, TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    external_line_id = models.CharField(max_length=100, blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(max_length=64, help_text="SKU as captured (the product may change).")
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = money_field()
    discount = money_field()
    tax = money_field()
    total = money_field(help_text="quantity × unit_price − discount")
    cancelled_quantity = models.PositiveIntegerField(
        default=0, help_text="Units cancelled (partial cancel); the line ships the rest."
    )
    status = FSMField(
        max_length=16, choices=LineStatus.choices, default=LineStatus.OPEN, protected=True
    )

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="orderline_order_number_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(cancelled_quantity__lte=models.F("quantity")),
                name="orderline_cancelled_lte_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number} {self.sku} × {self.quantity}"

    @property
    def live_quantity(self) -> int:
        """The units still to ship: the quantity ordered less what was cancelled."""
        return self.quantity - self.cancelled_quantity

    # Progress transitions chosen by fulfillment/services/rollup.py (see Order).
    @transition(field=status, source=LINE_PROGRESS_SOURCES, target=LineStatus.BACKORDERED)
    def mark_backordered(self) -> None:
        """Some of the quantity waits for stock."""

    @transition(field=status, source=LINE_PROGRESS_SOURCES, target=LineStatus.ALLOCATED)
    def mark_allocated(self) -> None:
        """All reserved; some not yet released to its node."""

    @transition(field=status, source=LINE_PROGRESS_SOURCES, target=LineStatus.RELEASED)
    def mark_released(self) -> None:
        """Everything not yet shipped is at its nodes."""

    @transition(field=status, source=LINE_PROGRESS_SOURCES, target=LineStatus.SHIPPED)
    def mark_shipped(self) -> None:
        """The whole quantity has shipped (or been picked up)."""

    @transition(field=status, source=LINE_PROGRESS_SOURCES, target=LineStatus.DELIVERED)
    def mark_delivered(self) -> None:
        """The whole quantity has been delivered or picked up."""

    @transition(
        field=status,
        source=[LineStatus.OPEN, LineStatus.BACKORDERED, LineStatus.ALLOCATED, LineStatus.RELEASED],
        target=LineStatus.CANCELLED,
    )
    def cancel(self) -> None:
        pass

    @transition(
        field=status,
        source=[LineStatus.OPEN, LineStatus.BACKORDERED, LineStatus.ALLOCATED],
        target=LineStatus.HANDED_BACK,
    )
    def hand_back(self) -> None:
        """A rollback gave the line's order to the legacy system before any node had it
        (fulfillment/services/handback.py): oms ships none of it."""


class HoldKind(models.TextChoices):
    FRAUD = "fraud", "Fraud review"
    PAYMENT = "payment", "Payment"
    ADDRESS = "address", "Address verification"
    MANUAL = "manual", "Manual"


class HoldStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RELEASED = "released", "Released"


class Hold(FSMModelMixin, TimeStampedModel):
    """A reason not to release the order to any node. Nothing ships while one is active."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=10, choices=HoldKind.choices)
    reason = models.CharField(max_length=500, blank=True)
    status = FSMField(
        max_length=10, choices=HoldStatus.choices, default=HoldStatus.ACTIVE, protected=True
    )
    placed_by = models.CharField(max_length=200, blank=True)
    released_by = models.CharField(max_length=200, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            # One active hold per kind per order: placing the same hold twice is a no-op.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(status="active"),
                name="hold_one_active_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} hold ({self.status})"

    @transition(field=status, source=HoldStatus.ACTIVE, target=HoldStatus.RELEASED)
    def release(self, *, by: str, at: datetime, note: str) -> None:
        self.released_by = by
        self.released_at = at
        self.release_note = note[:500]


class PaymentKind(models.TextChoices):
    AUTHORIZE = "authorize", "Authorize"
    CAPTURE = "capture", "Capture"
    VOID = "void", "Void"
    REFUND = "refund", "Refund"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PaymentTransaction(TimeStampedModel):
    """One attempt at moving money with the payment provider: the immutable history of an
    order's money (orders/services/payments.py writes it; nothing else does).

    `idempotency_key` is the caller's: one pending or succeeded row per key, ever (a partial
    unique index), so a retried call returns the same row and a call after a failure makes a new
    attempt. `provider_idempotency_key` is what the provider saw: the key plus the attempt, as
    providers replay a stored decline for a key they have seen.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payment_transactions")
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    amount = money_field()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=50)
    provider_reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200)
    attempt = models.PositiveSmallIntegerField(default=1)
    provider_idempotency_key = models.CharField(max_length=220)
    status = models.CharField(
        max_length=10, choices=TransactionStatus.choices, default=TransactionStatus.PENDING
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    shipment_reference = models.CharField(
        max_length=40, blank=True, help_text="The fulfillment order a capture charges for."
    )
    reason = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(status="failed"),
                name="paymenttx_one_live_per_key",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key", "attempt"], name="paymenttx_key_attempt_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="paymenttx_amount_gte_0"),
        ]
        indexes = [
            models.Index(fields=["order", "kind", "status"], name="paymenttx_order_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"


class ScriptedOutcome(models.TextChoices):
    DECLINE = "decline", "Decline"
    TIMEOUT = "timeout", "Time out"


class SimulatedPaymentScript(TimeStampedModel):
    """What the simulated payment provider does next for one order and kind of call: decline or
    time out `remaining` times, then succeed again. A row, so a Celery worker process sees what
    a test or the demo scripted (orders/payments/simulated.py)."""

    order_number = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    outcome = models.CharField(max_length=10, choices=ScriptedOutcome.choices)
    remaining = models.PositiveIntegerField(default=1)
    code = models.CharField(max_length=64, default="card_declined")

    class Meta:
        ordering = ["order_number", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_number", "kind"], name="simpaymentscript_order_kind_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_number} {self.kind}: {self.outcome} × {self.remaining}"
