"""The inbound message log: every message a node, carrier or file sends us, kept with its
outcome. (source, message_id) is unique, so a message that arrives twice is recognised and
acknowledged without a second effect."""

import base64
import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from simple_history.models import HistoricalRecords

from oms.core.fields import EncryptedTextField


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead (needs a person)"


class InboundMessage(models.Model):
    source = models.CharField(max_length=100, help_text="e.g. node:dc-columbus, carrier:easypost")
    message_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=50, help_text="e.g. fulfillment.ship, tracking, x12.945")
    subject = models.CharField(max_length=100, blank=True, help_text="e.g. the fulfillment number")
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    fingerprint = models.CharField(max_length=64)
    # Written only by integrations/services.py; a retry bookkeeping field, not a lifecycle.
    status = models.CharField(
        max_length=10, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=60, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    correlation_id = models.CharField(max_length=128, blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set while a failed message waits for its next automatic attempt (integrations/inbound.py);
    # empty for messages whose sender was answered and owns the retry.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "message_id"], name="inbound_source_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_idx"),
            models.Index(fields=["subject"], name="inbound_subject_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="inbound_retry_due_idx",
                condition=models.Q(status="failed", next_attempt_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.message_id} ({self.status})"


# --- Webhooks out (docs/webhooks.md) ------------------------------------------------------------


def _new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


new_webhook_secret = _new_webhook_secret  # public name for webhooks/subscriptions.py


def _new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=200)
    url = models.CharField(max_length=2000, help_text="https://… (checked against SSRF rules)")
    event_types = models.JSONField(
        default=list, help_text='e.g. ["fulfillment.*", "order.created"] or ["*"]'
    )
    channel = models.ForeignKey(
        "orders.Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
        help_text="Only events of this channel's orders (empty: all events).",
    )
    # Encrypted at rest (oms/core/fields.py). After a rotation the previous secret keeps signing
    # too, next to the new one, until previous_secret_expires_at (webhooks/subscriptions.py).
    secret = EncryptedTextField(default=_new_webhook_secret, editable=False)
    previous_secret = EncryptedTextField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The secret stays out of the history table: history is readable by more people.
    history = HistoricalRecords(excluded_fields=["secret", "previous_secret"])

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one
        during the overlap after a rotation."""
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and now < self.previous_secret_expires_at
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


class EventDispatch(models.Model):
    """The outbox cursor: one row per event the relay has fanned out. Events are immutable
    (ADR 0003), so "dispatched" lives here rather than on the event row."""

    event = models.OneToOneField(
        "events.Event", primary_key=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    dispatched_at = models.DateTimeField()
    deliveries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["dispatched_at"], name="eventdispatch_at_idx")]

    def __str__(self) -> str:
        return f"event {self.event_id} dispatched {self.dispatched_at:%Y-%m-%d %H:%M:%S}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead (gave up)"
    CANCELLED = "cancelled", "Cancelled (subscription inactive)"


class DeliveryReason(models.TextChoices):
    EVENT = "event", "Event"
    REPLAY = "replay", "Replay"


class WebhookDelivery(models.Model):
    webhook_id = models.CharField(max_length=40, unique=True, default=_new_webhook_id)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("events.Event", on_delete=models.DO_NOTHING, related_name="+")
    reason = models.CharField(
        max_length=10, choices=DeliveryReason.choices, default=DeliveryReason.EVENT
    )
    # Written only by webhooks/sending.py.
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"],
                condition=models.Q(reason="event"),
                name="webhookdelivery_once_per_event",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_due_idx",
            ),
            models.Index(fields=["event"], name="webhookdelivery_event_idx"),
        ]

    def __str__(self) -> str:
        return self.webhook_id


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.CharField(max_length=1024, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S} → {self.status_code or self.error}"
        )
