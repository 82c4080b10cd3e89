"""The event log: immutable facts, one stream per order, written in the business transaction.

`record_event()` (oms/events/services.py) is the only writer. The ORM refuses updates and
deletes (model and queryset level), the admin is read-only, and on PostgreSQL a trigger refuses
UPDATE and DELETE for any client, so the log is an audit trail a DBA cannot edit by accident.
"""

import uuid
from typing import Any, NoReturn

from django.db import models


class ImmutableEventError(Exception):
    pass


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableEventError("events are immutable")

    def delete(self) -> NoReturn:
        raise ImmutableEventError("events are immutable")

    def for_stream(self, stream: str) -> "EventQuerySet":
        return self.filter(stream=stream).order_by("seq")


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stream = models.CharField(max_length=100)
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=100, db_index=True)
    schema_version = models.PositiveSmallIntegerField(default=1)
    actor_kind = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True, db_index=True)
    causation_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()

    objects = EventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="event_stream_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["occurred_at"], name="event_occurred_at_idx"),
            # KPIs count events of one type over a period (e.g. order.backordered).
            models.Index(fields=["type", "occurred_at"], name="event_type_occurred_idx"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableEventError("events are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableEventError("events are immutable")


class Redaction(models.Model):
    """Personal data erased from one stream (docs/security.md, "Personal data").

    Events stay as written (the trigger refuses any UPDATE), so erasure is recorded beside them:
    one row per stream listing the erased values as salted SHA-256 digests, each with what a
    reader shows instead. `oms.events.redaction.Masker` applies it to every payload it returns
    (API, admin, webhooks, replays). The erased values themselves are not kept here."""

    stream = models.CharField(max_length=100, unique=True)
    salt = models.CharField(max_length=32)
    # [{"digest": <sha256 hex of salt + normalised value>, "replacement": "[erased]"}]
    values = models.JSONField(default=list)
    fields = models.JSONField(default=list, help_text="Which fields were erased (names only).")
    erased_at = models.DateTimeField()
    erased_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"redaction of {self.stream}"
