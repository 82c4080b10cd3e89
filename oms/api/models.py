"""Idempotency keys for API writes (IETF draft "The Idempotency-Key HTTP Header Field")."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyKeyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyKey(models.Model):
    """One client's use of one key: the request it answered and the response it gave.

    The status here is a claim marker, not a business lifecycle, so it is a plain field written
    only by oms/api/idempotency.py.
    """

    api_client = models.ForeignKey(
        settings.OMS_API_CLIENT_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical request.")
    status = models.CharField(max_length=12, choices=IdempotencyKeyStatus.choices)
    locked_until = models.DateTimeField(null=True, blank=True)
    claimed_by_session = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="PostgreSQL backend pid of the request holding the claim: once that session "
        "is gone, a retry takes the key over without waiting for locked_until.",
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_client", "key"], name="idempotency_client_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
