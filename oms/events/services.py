"""record_event(): the only way an Event is written."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.bulk import copy_rows
from oms.core.correlation import get_correlation_id
from oms.core.queries import insert_rows_bound, new_row
from oms.core.transactions import require_atomic
from oms.events import handlers, registry
from oms.events.models import Event


def record_event(
    *,
    stream: str,
    type: str,  # noqa: A002 - the event's type is what the catalogue calls it
    actor: Actor,
    payload: dict[str, Any],
    causation_id: uuid.UUID | None = None,
    correlation_id: str | None = None,
    first_in_stream: bool = False,
    previous: Event | None = None,
    subject: Any = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event to `stream` inside the caller's transaction.

    The caller must hold the lock on the stream's root row (the order), which serialises
    sequence allocation; the (stream, seq) unique constraint turns a forgotten lock into an
    IntegrityError instead of a silent duplicate. `first_in_stream` skips the sequence lookup
    for a stream created in this very transaction (order capture). `previous` is the event
    this transaction last appended to the same stream, under the lock it still holds: the new
    one follows it without a sequence lookup (a wrong `previous` fails on the constraint).

    The handlers registered for the type (oms/events/handlers.py) run after the insert, in this
    transaction, with the event and `subject`: the locked row the event is about.

    `occurred_at` is for imported history only (migration/): the fact happened in the legacy
    system at that time, so KPIs and the timeline place it there. Everything else is now.
    """
    require_atomic("record_event()")
    event_type = registry.get(type)
    pending: list[Event] | None = getattr(_batch, "pending", None)
    if first_in_stream:
        seq = 1
    elif previous is not None:
        if previous.stream != stream:
            raise ValueError(f"previous event is of stream {previous.stream!r}, not {stream!r}")
        seq = previous.seq + 1
    else:
        if pending:
            _write(pending)  # the sequence is read from the table
        seq = _last_seq(stream) + 1
    event = new_row(
        Event,
        stream=stream,
        seq=seq,
        type=event_type.name,
        schema_version=event_type.schema_version,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        correlation_id=correlation_id or get_correlation_id() or "",
        causation_id=causation_id,
        payload=payload,
        occurred_at=occurred_at or timezone.now(),
    )
    if pending is not None and subject is None:
        pending.append(event)  # no handler runs for it: written when the batch ends
        return event
    if pending:
        _write(pending)  # a handler may read the stream: everything before its event first
    # An INSERT, as save(force_insert=True), without the compiler; the values (the payload
    # among them) bound by the server and the statement prepared (oms/core/queries.py).
    insert_rows_bound([event])
    handlers.dispatch(event, subject)
    return event


_batch = threading.local()


@contextmanager
def events_in_one_insert() -> Iterator[None]:
    """Within the block (inside the caller's transaction, which it must not outlive), events
    recorded without a subject are written together when it ends: one multi-row INSERT instead
    of one per event (orchestration records five per order). Nothing changes for the events
    themselves: each gets its sequence, time and id when recorded, and the batch is written
    before an event with a subject (its handlers may read the stream) and before a sequence
    is read from the table. An exception in the block writes nothing (the transaction rolls
    back anyway). Nested blocks join the outer one."""
    require_atomic("events_in_one_insert()")
    if getattr(_batch, "pending", None) is not None:
        yield
        return
    _batch.pending = []
    try:
        yield
        _write(_batch.pending)
    finally:
        _batch.pending = None


def _write(pending: list[Event]) -> None:
    if pending:
        insert_rows_bound(pending)
        pending.clear()


def _last_seq(stream: str) -> int:
    """The stream's last sequence (0: none), by the (stream, seq) index. Plain SQL written once
    from the model's names: the ORM compiled the same aggregate on every event."""
    connection = connections[router.db_for_write(Event)]
    qn = connection.ops.quote_name
    seq = qn(Event._meta.get_field("seq").column or "seq")
    stream_column = qn(Event._meta.get_field("stream").column or "stream")
    sql = f"SELECT MAX({seq}) FROM {qn(Event._meta.db_table)} WHERE {stream_column} = %s"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [stream])
        row = cursor.fetchone()
    return (row[0] if row else None) or 0


@dataclass(frozen=True)
class HistoryEvent:
    """One event of imported history, at its place in a stream the caller created in this
    transaction (so it knows the sequence)."""

    stream: str
    seq: int
    type: str
    payload: dict[str, Any]
    occurred_at: datetime


def record_history_events(*, events: list[HistoryEvent], actor: Actor) -> list[int]:
    """Append imported history in one COPY (migration/: thousands of orders per batch;
    oms/core/bulk.py); the events' ids.

    For streams created in the caller's transaction only: the caller gives each event its
    sequence (the (stream, seq) constraint refuses a wrong one). No handler runs: history has no
    subject, it is a record of what happened elsewhere (docs/events.md, "Legacy imports").
    """
    require_atomic("record_history_events()")
    common = {
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "correlation_id": get_correlation_id() or "",
    }
    rows = []
    for entry in events:
        event_type = registry.get(entry.type)
        rows.append(
            {
                **common,
                "event_id": uuid.uuid4(),
                "stream": entry.stream,
                "seq": entry.seq,
                "type": event_type.name,
                "schema_version": event_type.schema_version,
                "payload": entry.payload,
                "occurred_at": entry.occurred_at,
            }
        )
    return copy_rows(Event, rows)
