"""The inbound message log: every message a node, carrier or file sends us, kept with its
outcome. (source, message_id) is unique, so a message that arrives twice is recognised and
acknowledged without a second effect."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed (will retry)"
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
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.message_id} ({self.status})"
