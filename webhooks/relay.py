"""The outbox relay: fan committed events out to deliveries, once per (subscription, event).

One transaction per batch:

    SELECT events with no EventDispatch row, oldest first, FOR UPDATE OF e SKIP LOCKED
    INSERT EventDispatch rows ... ON CONFLICT DO NOTHING RETURNING event_id   (the ones we own)
    INSERT one WebhookDelivery per matching active subscription for the events we own
    on commit: enqueue send_deliveries_task for the new deliveries, in chunks

Two relays skip each other's locked events; an event a second relay read before the first one
committed is refused by the EventDispatch primary key (ON CONFLICT DO NOTHING returns nothing
for it), so a delivery is never created twice. No network I/O happens here.

Finding undispatched events is an anti-join; to keep it from walking the whole log it starts
above a floor: an event dispatched more than RELAY_FLOOR_MARGIN ago. Every event with a lower
id was inserted before that one was committed, so (unless a transaction stays open longer than
the margin) it is committed or gone, and the relay, taking events in id order, has seen it.
"""

from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from integrations.models import EventDispatch, WebhookDelivery
from oms.events.models import Event
from orders.models import Order
from webhooks.subscriptions import active_matchers

RELAY_FLOOR_MARGIN = timedelta(hours=1)
ORDER_STREAM_PREFIX = "order:"

_CLAIM_SQL = """
    SELECT e.id FROM events_event e
    WHERE e.id > %s AND NOT EXISTS (
        SELECT 1 FROM integrations_eventdispatch d WHERE d.event_id = e.id
    )
    ORDER BY e.id
    LIMIT %s
    FOR UPDATE OF e SKIP LOCKED
"""

_MARK_SQL = """
    INSERT INTO integrations_eventdispatch (event_id, dispatched_at, deliveries)
    SELECT unnest(%s::bigint[]), %s, unnest(%s::smallint[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
"""


def _floor() -> int:
    row = (
        EventDispatch.objects.filter(dispatched_at__lt=timezone.now() - RELAY_FLOOR_MARGIN)
        .order_by("-dispatched_at")
        .values_list("event_id", flat=True)
        .first()
    )
    return int(row or 0)


def channels_for_streams(streams: set[str]) -> dict[str, int]:
    """stream → channel id, for order streams (`order:<number>`); others have no channel."""
    numbers = {s[len(ORDER_STREAM_PREFIX) :] for s in streams if s.startswith(ORDER_STREAM_PREFIX)}
    if not numbers:
        return {}
    rows = Order.objects.filter(number__in=numbers).values_list("number", "channel_id")
    return {f"{ORDER_STREAM_PREFIX}{number}": channel for number, channel in rows}


def relay_events(batch: int = 500) -> dict[str, Any]:
    """Dispatch up to `batch` undispatched events. Returns counts; `events == batch` means
    there may be more."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [_floor(), batch])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return {"events": 0, "deliveries": 0}
        events = list(Event.objects.filter(pk__in=ids).only("id", "type", "stream").order_by("id"))
        matchers = active_matchers()
        channels = channels_for_streams({e.stream for e in events}) if matchers else {}
        planned: dict[int, list[int]] = {}
        for event in events:
            channel_id = channels.get(event.stream)
            planned[event.id] = [m.id for m in matchers if m.wants(event.type, channel_id)]
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                _MARK_SQL,
                [list(planned), now, [min(len(v), 32767) for v in planned.values()]],
            )
            owned = {row[0] for row in cursor.fetchall()}
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    subscription_id=sub_id, event_id=event_id, created_at=now, next_attempt_at=now
                )
                for event_id, sub_ids in planned.items()
                if event_id in owned
                for sub_id in sub_ids
            ],
            batch_size=1000,
        )
        delivery_ids = [d.pk for d in deliveries]
        if delivery_ids:
            transaction.on_commit(lambda: _enqueue_sends(delivery_ids))
    return {"events": len(owned), "deliveries": len(delivery_ids)}


SEND_CHUNK = 25


def _enqueue_sends(delivery_ids: list[int]) -> None:
    """One task per chunk of deliveries (per-task overhead dominates a fast send); several
    workers share the chunks. A chunk lost with a killed worker is left to the due-sweeper."""
    from webhooks.tasks import send_deliveries_task

    for start in range(0, len(delivery_ids), SEND_CHUNK):
        send_deliveries_task.delay(delivery_ids[start : start + SEND_CHUNK])
