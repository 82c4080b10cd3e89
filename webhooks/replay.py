"""Replays and test messages.

A replay creates new deliveries (reason "replay", new webhook-id) of events already delivered;
the body is the same event, so consumers that must not apply an event twice dedupe on the
event id in the body (`id`), while webhook-id dedupes retries of one delivery.
"""

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import (
    DeliveryReason,
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.core.errors import DomainError, NotFound
from oms.events.models import Event
from orders.models import Order, stream_for_order
from webhooks import http
from webhooks.relay import channels_for_streams
from webhooks.sending import signed_headers
from webhooks.ssrf import check_url
from webhooks.subscriptions import SubscriptionMatch, _locked

REPLAY_LIMIT = 50_000


def _replay(
    subscription_id: int,
    events: Any,
    *,
    check: Callable[[WebhookSubscription], None] | None = None,
) -> int:
    with transaction.atomic():
        sub = _locked(subscription_id)
        if not sub.is_active:
            raise DomainError(
                code="subscription_inactive",
                detail="Activate the subscription before replaying to it.",
            )
        if check is not None:
            check(sub)
        matcher = SubscriptionMatch(sub.pk, tuple(sub.event_types), sub.channel_id)
        now = timezone.now()
        rows = list(events.only("id", "type", "stream").order_by("id")[: REPLAY_LIMIT + 1])
        if len(rows) > REPLAY_LIMIT:
            raise DomainError(
                code="replay_too_large",
                detail=f"More than {REPLAY_LIMIT} events: choose a later start.",
            )
        channels = channels_for_streams({e.stream for e in rows}) if sub.channel_id else {}
        created = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    subscription=sub,
                    event_id=e.id,
                    reason=DeliveryReason.REPLAY,
                    status=DeliveryStatus.PENDING,
                    created_at=now,
                    next_attempt_at=now,
                )
                for e in rows
                if matcher.wants(e.type, channels.get(e.stream))
            ],
            batch_size=1000,
        )
        transaction.on_commit(_nudge_sweeper)
    return len(created)


def replay_since(subscription_id: int, since: datetime) -> int:
    """Deliver again every matching event that occurred at or after `since` (not in the
    future). Returns the number of deliveries created."""
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    if since > timezone.now():
        raise DomainError(
            code="replay_start_in_future",
            detail=f"The start {since:%Y-%m-%d %H:%M %Z} is in the future: nothing to replay.",
            http_status=400,
        )
    return _replay(subscription_id, Event.objects.filter(occurred_at__gte=since))


def replay_order_stream(subscription_id: int, order_number: str) -> int:
    """Deliver again every matching event of one order's stream. Returns the number of
    deliveries created."""
    typed = order_number.strip()
    order = (
        Order.objects.filter(number__in={typed, typed.upper()})
        .values("number", "channel_id", "channel__code")
        .first()
    )
    if order is None:
        raise NotFound(f"No order {typed!r}.", code="order_not_found")

    def same_channel(sub: WebhookSubscription) -> None:
        if sub.channel_id is not None and sub.channel_id != order["channel_id"]:
            raise DomainError(
                code="order_not_in_channel",
                detail=f"Order {order['number']} is a {order['channel__code']} order; this "
                "subscription receives only its own channel's orders.",
                http_status=400,
            )

    return _replay(
        subscription_id,
        Event.objects.filter(stream=stream_for_order(order["number"])),
        check=same_channel,
    )


def retry_now(delivery_id: int) -> None:
    """Make a pending, dead or cancelled delivery due now (a dead or cancelled one gets a
    fresh attempt budget). Refused for a delivered one (replay it) and while the subscription
    is inactive (the sender would cancel it again)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound("No such webhook delivery.")
        if delivery.status == DeliveryStatus.DELIVERED:
            raise DomainError(
                code="already_delivered", detail="Delivered already: replay it instead."
            )
        if not delivery.subscription.is_active:
            raise DomainError(
                code="subscription_inactive",
                detail="Activate the subscription before retrying its deliveries.",
            )
        if delivery.status != DeliveryStatus.PENDING:
            delivery.attempts = 0
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: _enqueue_one(delivery_id))


def send_test_message(subscription_id: int) -> str:
    """POST a signed `webhook.test` message now (outside any transaction); returns a summary.
    Nothing is recorded. Allowed on an inactive subscription too: that is how an endpoint is
    checked before the subscription is activated again."""
    sub = _subscription(subscription_id)
    target = check_url(sub.url)
    webhook_id = f"msg_test_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "webhook.test",
            "schema_version": 1,
            "occurred_at": timezone.now().isoformat(),
            "stream": "",
            "seq": 0,
            "payload": {},
        },
        separators=(",", ":"),
    ).encode()
    started = time.monotonic()
    try:
        now = timezone.now()
        headers = signed_headers(sub.signing_secrets(now), webhook_id, body, now)
        response = http.post(target, body, headers)
    except http.SendError as exc:
        raise DomainError(code="webhook_test_failed", detail=f"Test failed: {exc}") from exc
    ms = int((time.monotonic() - started) * 1000)
    if not 200 <= response.status < 300:
        raise DomainError(
            code="webhook_test_failed",
            detail=f"Test answered HTTP {response.status} in {ms} ms: {response.body[:200]}",
        )
    return f"HTTP {response.status} in {ms} ms"


def _subscription(subscription_id: int) -> WebhookSubscription:
    try:
        return WebhookSubscription.objects.get(pk=subscription_id)
    except WebhookSubscription.DoesNotExist:
        raise NotFound("No such webhook subscription.") from None


def _enqueue_one(delivery_id: int) -> None:
    from webhooks.tasks import send_delivery_task

    send_delivery_task.delay(delivery_id)


def _nudge_sweeper() -> None:
    from webhooks.tasks import send_due_deliveries_task

    send_due_deliveries_task.delay()
