"""oms.events.services.events_in_one_insert(): events recorded without a subject inside the
block go in with one INSERT when it ends, each with the sequence, time and id it was recorded
with; an event with a subject (its handlers may read the stream) and a sequence read from the
table see every earlier one."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oms.core.actors import Actor
from oms.events import handlers
from oms.events.models import Event
from oms.events.services import events_in_one_insert, record_event

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def _inserts(ctx):
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "events')]


def test_the_events_go_in_with_one_insert_at_the_end_of_the_block():
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        with events_in_one_insert():
            first = record_event(
                stream="order:A", type="order.hold_placed", actor=ACTOR, payload={"n": 1}
            )
            second = record_event(
                stream="order:A",
                type="order.hold_released",
                actor=ACTOR,
                payload={"n": 2},
                previous=first,
            )
            other = record_event(
                stream="order:B",
                type="order.hold_placed",
                actor=ACTOR,
                payload={"n": 3},
                first_in_stream=True,  # no sequence read from the table
            )
            assert not Event.objects.filter(stream__in=["order:A", "order:B"]).exists()
        written = list(Event.objects.filter(stream__in=["order:A", "order:B"]).order_by("id"))

    assert len(_inserts(ctx)) == 1
    assert [(e.stream, e.seq, e.type, e.payload) for e in written] == [
        ("order:A", 1, "order.hold_placed", {"n": 1}),
        ("order:A", 2, "order.hold_released", {"n": 2}),
        ("order:B", 1, "order.hold_placed", {"n": 3}),
    ]
    assert [e.pk for e in (first, second, other)] == [e.pk for e in written]
    assert [e.event_id for e in written] == [first.event_id, second.event_id, other.event_id]


def test_a_sequence_read_from_the_table_sees_the_events_not_written_yet():
    with transaction.atomic(), events_in_one_insert():
        record_event(stream="order:C", type="order.hold_placed", actor=ACTOR, payload={})
        # no `previous`: the sequence is read from the table, after the batch is written
        later = record_event(stream="order:C", type="order.hold_released", actor=ACTOR, payload={})

    assert later.seq == 2
    assert list(Event.objects.filter(stream="order:C").values_list("seq", flat=True)) == [1, 2]


def test_an_event_with_a_subject_finds_every_earlier_event_written(monkeypatch):
    seen = []

    def handler(event, subject):
        seen.append(list(Event.objects.filter(stream=event.stream).values_list("seq", flat=True)))

    monkeypatch.setitem(handlers._HANDLERS, "order.hold_released", [handler])
    with transaction.atomic(), events_in_one_insert():
        first = record_event(stream="order:D", type="order.hold_placed", actor=ACTOR, payload={})
        record_event(
            stream="order:D",
            type="order.hold_released",
            actor=ACTOR,
            payload={},
            previous=first,
            subject=object(),
        )

    assert seen == [[1, 2]]


def _fails_after_an_event():
    with transaction.atomic(), events_in_one_insert():
        record_event(stream="order:E", type="order.hold_placed", actor=ACTOR, payload={})
        raise ZeroDivisionError


def test_an_error_in_the_block_writes_nothing():
    with pytest.raises(ZeroDivisionError):
        _fails_after_an_event()

    assert not Event.objects.filter(stream="order:E").exists()
    # and the next block starts empty
    with transaction.atomic(), events_in_one_insert():
        record_event(stream="order:E", type="order.hold_placed", actor=ACTOR, payload={})
    assert list(Event.objects.filter(stream="order:E").values_list("seq", flat=True)) == [1]
