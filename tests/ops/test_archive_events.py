"""archive_events: old months of the event log leave it for a gzip JSONL file, except what must
stay (events of open orders, events a webhook delivery points at, events the relay has not
seen); the immutability trigger still refuses every other DELETE; months within the retention
are refused; the archiving is itself an event."""

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from integrations.models import EventDispatch, WebhookDelivery, WebhookSubscription
from oms.events.models import Event
from oms.events.selectors import events_for_stream
from orders.models import Order
from tests.factories.orders import ChannelFactory

pytestmark = pytest.mark.django_db

OLD = datetime(2023, 3, 10, 12, tzinfo=UTC)  # March 2023: older than 24 months


@pytest.fixture
def log():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger and the test database are PostgreSQL")
    channel = ChannelFactory(code="web")

    def order(number: str, status: str) -> Order:
        return Order.objects.create(
            number=number,
            external_id=number,
            channel=channel,
            status=status,
            placed_at=OLD,
            currency="USD",
            customer_name="Archive Customer",
            ship_line1="1 Main St",
        )

    closed, still_open = order("AR-1", "completed"), order("AR-2", "released")
    rows = []
    for stream, n, at in (
        (closed.stream, 3, OLD),
        (still_open.stream, 2, OLD),
        ("exception:99", 1, OLD + timedelta(days=30)),  # April 2023
        (closed.stream + "x", 1, datetime(2026, 11, 1, tzinfo=UTC)),  # recent
    ):
        rows += [
            Event(
                stream=stream,
                seq=seq,
                type="order.note_added",
                actor_kind="system",
                occurred_at=at + timedelta(minutes=seq),
                payload={"note": f"{stream} {seq}"},
            )
            for seq in range(1, n + 1)
        ]
    events = Event.objects.bulk_create(rows)
    long_ago = datetime.now(UTC) - timedelta(days=2)
    EventDispatch.objects.bulk_create(
        EventDispatch(event=e, dispatched_at=long_ago) for e in events
    )
    subscription = WebhookSubscription.objects.create(
        name="archive test", url="https://example.com/hook", event_types=["*"]
    )
    WebhookDelivery.objects.create(
        subscription=subscription, event=events[2], created_at=long_ago
    )  # the closed order's third event
    # above the relay's floor: no dispatch row yet, recorded in the old month (an import)
    unseen = Event.objects.create(
        stream=closed.stream, seq=9, type="order.note_added", actor_kind="system", occurred_at=OLD
    )
    return {"closed": closed, "open": still_open, "events": events, "unseen": unseen}


def lines(path):
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_old_months_are_exported_and_removed_except_what_must_stay(log, tmp_path):
    call_command("archive_events", "--before", "2024-01", "--out", str(tmp_path))

    files = sorted(tmp_path.glob("events-*.jsonl.gz"))
    assert [f.name[:14] for f in files] == ["events-2023-03", "events-2023-04"]
    march = lines(files[0])
    assert [(e["stream"], e["seq"]) for e in march] == [("order:AR-1", 1), ("order:AR-1", 2)]
    assert march[0]["payload"] == {"note": "order:AR-1 1"}
    assert march[0]["dispatched_at"] is not None
    april = lines(files[1])
    assert [e["stream"] for e in april] == ["exception:99"]

    before_2024 = Event.objects.filter(occurred_at__lt=datetime(2024, 1, 1, tzinfo=UTC))
    left = set(before_2024.values_list("stream", "seq"))
    # open order's events, the one a delivery points at, the one the relay has not seen
    assert left == {("order:AR-2", 1), ("order:AR-2", 2), ("order:AR-1", 3), ("order:AR-1", 9)}
    assert Event.objects.filter(stream="order:AR-1x").count() == 1  # recent
    assert not EventDispatch.objects.filter(event__stream="exception:99").exists()
    assert [e.seq for e in events_for_stream(log["open"].stream)] == [1, 2]

    recorded = Event.objects.get(stream="event-archive:2023-03", type="events.archived")
    assert recorded.payload["archived"] == 2
    assert recorded.payload["kept"] == 4
    assert recorded.payload["file"] == files[0].name
    assert recorded.payload["sha256"] == hashlib.sha256(files[0].read_bytes()).hexdigest()

    # Again: nothing more to take, no new file.
    call_command("archive_events", "--before", "2024-01", "--out", str(tmp_path))
    assert len(list(tmp_path.glob("events-*.jsonl.gz"))) == 2


def test_months_within_the_retention_are_refused(log, tmp_path, settings):
    settings.OMS_EVENT_RETENTION_MONTHS = 24
    with pytest.raises(CommandError, match="within_retention"):
        call_command("archive_events", "--before", "2026-01", "--out", str(tmp_path))
    assert not list(tmp_path.iterdir())
    assert Event.objects.filter(stream="exception:99").exists()


def _execute(*statements: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_the_trigger_still_refuses_deletes_outside_the_archive(log):
    with pytest.raises(DatabaseError, match="immutable"):
        _execute("DELETE FROM events_event WHERE stream = 'exception:99'")
    with pytest.raises(DatabaseError, match="immutable"):
        _execute(
            "SET LOCAL oms.events_archive = 'on'",
            "UPDATE events_event SET type = 'x' WHERE stream = 'exception:99'",
        )
    assert Event.objects.filter(stream="exception:99").exists()
