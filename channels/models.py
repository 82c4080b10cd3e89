"""A sales channel's connection to its platform, and the outbox of calls back to it.

`ChannelConnection` ties one `orders.Channel` to a platform (Shopify, WooCommerce, Amazon
SP-API, Magento 2, commercetools, X12 EDI): its endpoint, credentials and webhook secret
(encrypted at rest, never in history, logs, events or exports), direction toggles, the mapping
settings (SKU cross-reference, trading-partner ids) and the polling cursor.

`OutboundCall` is the outbox: one row per (connection, oms event, action), written in the same
transaction as the event (channels/handlers.py), sent by channels/services/outbound.py with
retries and backoff, then dead with an exception case.
"""

from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from oms.core.fields import EncryptedTextField


class Platform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    AMAZON = "amazon", "Amazon SP-API"
    MAGENTO = "magento", "Magento 2 (Adobe Commerce)"
    COMMERCETOOLS = "commercetools", "commercetools"
    X12 = "x12", "B2B EDI (X12)"


class ChannelConnection(models.Model):
    channel = models.OneToOneField(
        "orders.Channel", on_delete=models.PROTECT, related_name="connection"
    )
    platform = models.CharField(max_length=20, choices=Platform.choices)
    base_url = models.CharField(
        "endpoint base URL",
        max_length=500,
        blank=True,
        help_text="The platform's API root, e.g. https://shop.myshopify.com/admin/api/2026-07 "
        "(checked against SSRF rules before every call).",
    )
    # Encrypted at rest (oms/core/fields.py); shown once when set, never again.
    credentials = EncryptedTextField(blank=True, default="", editable=False)
    webhook_secret = EncryptedTextField(blank=True, default="", editable=False)
    inbound_enabled = models.BooleanField("orders in", default=True, help_text="Take orders in.")
    outbound_enabled = models.BooleanField(
        "updates out",
        default=True,
        help_text="Send fulfillments, tracking, cancellations and refunds back.",
    )
    settings = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text='Mapping: {"sku_map": {"platform id or code": "OMS-SKU"}, ...} and per-platform '
        "options (docs/channels.md).",
    )
    cursor = models.CharField(max_length=200, blank=True, help_text="Polling cursor (Amazon).")
    last_in_at = models.DateTimeField("last message in", null=True, blank=True)
    last_out_at = models.DateTimeField("last call out", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["credentials", "webhook_secret", "cursor"])

    class Meta:
        ordering = ["channel__code"]

    def __str__(self) -> str:
        return f"{self.channel.code} ({self.get_platform_display()})"

    @property
    def code(self) -> str:
        return self.channel.code

    @property
    def source(self) -> str:
        """The inbound message log's source for this channel's messages."""
        return f"channel:{self.channel.code}"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead (needs a person)"
    SKIPPED = "skipped", "Skipped (nothing to send)"


class OutboundCall(FSMModelMixin, models.Model):
    connection = models.ForeignKey(
        ChannelConnection, on_delete=models.CASCADE, related_name="outbound_calls"
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(
        "events.Event", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    action = models.CharField(max_length=40, help_text="fulfill, cancel, refund, return_received…")
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Written only by channels/services/outbound.py, through the transitions below.
    status = FSMField(
        max_length=10,
        choices=OutboundStatus.choices,
        default=OutboundStatus.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    response = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "event", "action"],
                condition=models.Q(event__isnull=False),
                name="outboundcall_once_per_event",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outboundcall_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} of {self.order_id} to {self.connection_id} ({self.status})"

    @transition(field=status, source=OutboundStatus.PENDING, target=OutboundStatus.SENT)
    def delivered(self, *, at: datetime, status_code: int | None) -> None:
        self.sent_at = at
        self.next_attempt_at = None
        self.last_error = ""
        self.last_status_code = status_code

    @transition(field=status, source=OutboundStatus.PENDING, target=OutboundStatus.DEAD)
    def give_up(self) -> None:
        self.next_attempt_at = None

    @transition(field=status, source=OutboundStatus.DEAD, target=OutboundStatus.PENDING)
    def retry(self, *, at: datetime) -> None:
        self.attempts = 0
        self.next_attempt_at = at
