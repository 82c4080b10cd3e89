"""Archive old months of the event log: export them to a gzip JSONL file, then delete them
(docs/adr/0016-event-log-archive.md, docs/events.md "Archiving").

The log stays immutable for everything else (ADR 0003): the PostgreSQL trigger refuses UPDATE
always, and DELETE unless the transaction set `oms.events_archive` (only this module does, with
SET LOCAL). A month is archived in one transaction: its events are written to
`<out>/events-YYYY-MM-<when>.jsonl.gz` (payloads masked as every reader masks them), their
outbox cursor rows (integrations.EventDispatch) deleted with them, the events deleted, and an
`events.archived` event recorded on the stream `event-archive:YYYY-MM` with the file's name,
size and SHA-256. If anything fails the transaction rolls back and the file is removed.

Kept in place (counted as `kept`): events of orders still open (an order's trace stays whole
while it can change), events a webhook delivery, a channel call or an ERP document points at,
and events the outbox relay has not fanned out yet. Only months older than
OMS_EVENT_RETENTION_MONTHS can be archived.
"""

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from channels.models import OutboundCall
from erp.models import ErpDocument
from integrations.models import EventDispatch, WebhookDelivery
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from oms.events.redaction import Masker
from oms.events.services import record_event
from ops.events import EVENTS_ARCHIVED
from orders.models import Order, OrderStatus, stream_for_order

ORDER_STREAM = stream_for_order("")
# An order in one of these can no longer change; any other is open and keeps its events.
CLOSED = (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.HANDED_BACK)
BATCH = 5000
RELAY_FLOOR_MARGIN = timedelta(hours=1)  # as webhooks/relay.py


@dataclass(frozen=True)
class MonthArchive:
    month: str
    archived: int
    kept: int
    path: Path | None
    sha256: str


def month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def retention_cutoff(now: datetime | None = None) -> datetime:
    """The first month that must stay: the current month minus the retention."""
    now = (now or timezone.now()).astimezone(UTC)
    months = now.year * 12 + now.month - 1 - settings.OMS_EVENT_RETENTION_MONTHS
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)


def _relay_floor() -> int:
    """Events at or below this id have all been seen by the outbox relay."""
    margin = timezone.now() - RELAY_FLOOR_MARGIN
    return (
        EventDispatch.objects.filter(dispatched_at__lt=margin)
        .order_by("-dispatched_at")
        .values_list("event_id", flat=True)
        .first()
    ) or 0


def archivable(t0: datetime, t1: datetime) -> QuerySet[Event]:
    """The events of [t0, t1) that may leave the log."""
    open_order = Order.objects.filter(number=OuterRef("number")).exclude(status__in=CLOSED)
    return (
        Event.objects.filter(occurred_at__gte=t0, occurred_at__lt=t1, id__lte=_relay_floor())
        .annotate(
            prefix=Substr("stream", 1, len(ORDER_STREAM)),
            number=Substr("stream", len(ORDER_STREAM) + 1),
        )
        .exclude(Q(prefix=ORDER_STREAM) & Exists(open_order))
        .exclude(Exists(WebhookDelivery.objects.filter(event_id=OuterRef("pk"))))
        .exclude(Exists(OutboundCall.objects.filter(event_id=OuterRef("pk"))))
        .exclude(Exists(ErpDocument.objects.filter(event_id=OuterRef("pk"))))
        .order_by("id")
    )


def _line(event: Event, masker: Masker, dispatched: dict[int, datetime]) -> str:
    return json.dumps(
        {
            "id": event.id,
            "event_id": event.event_id,
            "stream": event.stream,
            "seq": event.seq,
            "type": event.type,
            "schema_version": event.schema_version,
            "actor_kind": event.actor_kind,
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "payload": masker.payload(event.stream, event.payload),
            "occurred_at": event.occurred_at,
            "dispatched_at": dispatched.get(event.id),
        },
        cls=DjangoJSONEncoder,
        sort_keys=True,
    )


def archive_month(start: datetime, out_dir: Path, actor: Actor) -> MonthArchive:
    """Export and delete the archivable events of the month starting at `start`."""
    end = next_month(start)
    month = f"{start:%Y-%m}"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"events-{month}-{timezone.now():%Y%m%dT%H%M%S%f}.jsonl.gz"
    archived = 0
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL oms.events_archive = 'on'")
            ids = list(archivable(start, end).values_list("id", flat=True))
            with gzip.open(path, "wt", encoding="utf-8") as out:
                for i in range(0, len(ids), BATCH):
                    batch = ids[i : i + BATCH]
                    events = list(Event.objects.filter(id__in=batch).order_by("id"))
                    masker = Masker.for_streams({e.stream for e in events})
                    dispatched = dict(
                        EventDispatch.objects.filter(event_id__in=batch).values_list(
                            "event_id", "dispatched_at"
                        )
                    )
                    out.writelines(_line(e, masker, dispatched) + "\n" for e in events)
                    EventDispatch.objects.filter(event_id__in=batch).delete()
                    with connection.cursor() as cursor:
                        # The ORM refuses deletes of events (ADR 0003); this is the one place.
                        cursor.execute(
                            f"DELETE FROM {Event._meta.db_table} WHERE id IN "  # noqa: S608
                            f"({', '.join(['%s'] * len(batch))})",
                            batch,
                        )
                    archived += len(batch)
            if not archived:
                path.unlink()
                return MonthArchive(month, 0, _kept(start, end), None, "")
            content = path.read_bytes()
            sha256 = hashlib.sha256(content).hexdigest()
            kept = _kept(start, end)
            record_event(
                stream=f"event-archive:{month}",
                type=EVENTS_ARCHIVED,
                actor=actor,
                payload={
                    "month": month,
                    "archived": archived,
                    "kept": kept,
                    "file": path.name,
                    "bytes": len(content),
                    "sha256": sha256,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return MonthArchive(month, archived, kept, path, sha256)


def _kept(t0: datetime, t1: datetime) -> int:
    return Event.objects.filter(occurred_at__gte=t0, occurred_at__lt=t1).count()


def archive_events(*, before: date, out_dir: Path, actor: Actor) -> list[MonthArchive]:
    """Archive every month with events before the month of `before`, oldest first. Refused
    when that month is within the retention (OMS_EVENT_RETENTION_MONTHS)."""
    limit = month_start(before)
    cutoff = retention_cutoff()
    if limit > cutoff:
        raise DomainError(
            code="within_retention",
            http_status=400,
            detail=f"Events from {cutoff:%Y-%m} on are kept ({settings.OMS_EVENT_RETENTION_MONTHS} "
            f"months, OMS_EVENT_RETENTION_MONTHS): --before {limit:%Y-%m} is too recent.",
        )
    oldest = Event.objects.filter(occurred_at__lt=limit).aggregate(at=Min("occurred_at"))["at"]
    results = []
    start = month_start(oldest.astimezone(UTC).date()) if oldest else limit
    while start < limit:
        end = next_month(start)
        if Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end).exists():
            results.append(archive_month(start, out_dir, actor))
        start = end
    return results
