import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from oms.core.actors import Actor
from oms.events.models import Event, ImmutableEventError
from oms.events.services import record_event
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


def test_record_event_refuses_to_run_outside_a_transaction(db):
    # pytest-django wraps each test in a transaction; leave it to see autocommit behaviour
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        _outside_atomic(
            lambda: record_event(
                stream="order:X", type="order.created", actor=Actor.system(), payload={}
            )
        )


def _outside_atomic(fn):
    # Simulate autocommit mode: Django reports in_atomic_block False for the connection.
    saved = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        return fn()
    finally:
        connection.in_atomic_block = saved


def test_unregistered_event_types_are_refused(db):
    with transaction.atomic(), pytest.raises(LookupError, match="unregistered event type"):
        record_event(stream="order:X", type="order.exploded", actor=Actor.system(), payload={})


def test_sequence_grows_per_stream(db):
    with transaction.atomic():
        a1 = record_event(
            stream="order:A", type="order.hold_placed", actor=Actor.system(), payload={}
        )
        b1 = record_event(
            stream="order:B", type="order.hold_placed", actor=Actor.system(), payload={}
        )
        a2 = record_event(
            stream="order:A", type="order.hold_released", actor=Actor.system(), payload={}
        )

    assert (a1.seq, b1.seq, a2.seq) == (1, 1, 2)


def test_a_duplicate_sequence_fails_loudly(db):
    with transaction.atomic():
        record_event(
            stream="order:A",
            type="order.created",
            actor=Actor.system(),
            payload={},
            first_in_stream=True,
        )

    with pytest.raises(IntegrityError), transaction.atomic():
        record_event(
            stream="order:A",
            type="order.created",
            actor=Actor.system(),
            payload={},
            first_in_stream=True,
        )


def test_events_cannot_be_changed_or_deleted_through_the_orm(web_channel):
    # given
    order = captured_order(web_channel)
    event = Event.objects.get(stream=order.stream)

    # then
    event.type = "order.cancelled"
    with pytest.raises(ImmutableEventError):
        event.save()
    with pytest.raises(ImmutableEventError):
        event.delete()
    with pytest.raises(ImmutableEventError):
        Event.objects.filter(pk=event.pk).update(type="x")
    with pytest.raises(ImmutableEventError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).type == "order.created"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events_event SET type = 'order.cancelled'",
        "DELETE FROM events_event",
    ],
)
def test_postgres_refuses_raw_update_and_delete(web_channel, statement):
    captured_order(web_channel)

    with (
        pytest.raises((IntegrityError, InternalError), match="events are immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert Event.objects.get().type == "order.created"
