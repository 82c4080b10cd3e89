"""Send one delivery: claim it (short transaction), POST it (no transaction), record the outcome
(short transaction).

The claim pushes `next_attempt_at` a lease ahead, so a sender that dies mid-request leaves a
delivery that the due-sweeper sends again when the lease runs out (at-least-once; consumers
dedupe on webhook-id). The retry schedule lives in `next_attempt_at`, not in broker countdowns.
"""

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from oms.events.models import Event
from oms.events.outbound import outbound_payload
from webhooks import http
from webhooks.ssrf import WebhookUrlRefused, check_url
from webhooks.subscriptions import disable_subscription

BASE_DELAY = 30.0  # seconds before the 2nd attempt; doubles per attempt
MAX_DELAY = 6 * 3600.0
BODY_LIMIT = 1024


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed attempts: 30 s·2^(n-1), capped at 6 h, ±20 %
    jitter. 20 attempts span about 2.6 days."""
    delay = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - now).total_seconds(), 0.0)


def event_body(event: Event) -> bytes:
    """The signed body: the event with its payload as it may leave the system (secrets hidden,
    erased personal data masked, additions such as the pickup code: oms/events/outbound.py).
    Built at each send, so a replay of an erased order's events carries no personal data."""
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.type,
            "schema_version": event.schema_version,
            "occurred_at": event.occurred_at.isoformat(),
            "stream": event.stream,
            "seq": event.seq,
            "payload": outbound_payload(event),
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    ).encode()


def signed_headers(
    secrets: str | Sequence[str], webhook_id: str, body: bytes, at: datetime
) -> dict[str, str]:
    """Standard Webhooks headers. Several secrets (the overlap after a rotation) give several
    space-separated signatures in `webhook-signature`; a consumer accepts any that verifies."""
    if isinstance(secrets, str):
        secrets = [secrets]
    signature = " ".join(Webhook(secret).sign(webhook_id, at, body.decode()) for secret in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "oms-webhooks/1",
    }


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    webhook_id: str
    url: str
    secrets: tuple[str, ...]
    subscription_id: int
    event_id: int
    attempt: int


def claim(delivery_id: int) -> Claimed | None:
    """Take a due pending delivery for one attempt, or None (done, not due, or being sent)."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OMS_WEBHOOKS_SEND_LEASE_SECONDS)
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("subscription")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        sub = delivery.subscription
        if not sub.is_active:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.next_attempt_at = None
            delivery.last_error = f"subscription inactive: {sub.disabled_reason}"[:500]
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + lease
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return Claimed(
        delivery.pk,
        delivery.webhook_id,
        sub.url,
        tuple(sub.signing_secrets(now)),
        sub.pk,
        delivery.event_id,
        delivery.attempts,
    )


def send_delivery(delivery_id: int) -> str | None:
    """One attempt at a delivery if it is due; returns the resulting status (None: nothing)."""
    claimed = claim(delivery_id)
    if claimed is None:
        return None
    event = Event.objects.get(pk=claimed.event_id)
    body = event_body(event)
    started = time.monotonic()
    try:
        target = check_url(claimed.url)
        headers = signed_headers(claimed.secrets, claimed.webhook_id, body, timezone.now())
        response: http.Response | None = http.post(target, body, headers)
        error = ""
    except WebhookUrlRefused as exc:
        return _record(claimed, None, started, exc.detail, retryable=False)
    except http.SendError as exc:
        response, error = None, str(exc)
    return _record(claimed, response, started, error, retryable=True)


def _record(
    claimed: Claimed,
    response: "http.Response | None",
    started: float,
    error: str,
    *,
    retryable: bool,
) -> str:
    now = timezone.now()
    code = response.status if response is not None else None
    disable_reason = ""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(of=("self",)).get(
            pk=claimed.delivery_id
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=code,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error[:500],
            response_body=(response.body[:BODY_LIMIT] if response is not None else ""),
        )
        if delivery.status != DeliveryStatus.PENDING:
            return delivery.status  # another sender finished it meanwhile (lease ran out)
        delivery.last_status_code = code
        delivery.last_error = error[:500] if error else ""
        if code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif code == 410:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.next_attempt_at = None
            delivery.last_error = "410 Gone: the subscription was disabled"
            disable_reason = f"The endpoint answered 410 Gone at {now:%Y-%m-%d %H:%M:%S %Z}."
        elif not retryable or delivery.attempts >= settings.OMS_WEBHOOKS_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.DEAD
            delivery.next_attempt_at = None
        else:
            delay = backoff(delivery.attempts)
            if code == 429 and response is not None:
                wait = retry_after_seconds(response.headers.get("retry-after"), now)
                if wait is not None:
                    delay = min(max(wait, 1.0), MAX_DELAY)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        if code is not None and not error and delivery.status != DeliveryStatus.DELIVERED:
            delivery.last_error = delivery.last_error or f"HTTP {code}"
        delivery.save()
    if disable_reason:
        disable_subscription(claimed.subscription_id, reason=disable_reason)
    return delivery.status


def due_delivery_ids(limit: int = 500) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def send_due_deliveries(*, limit: int = 500, budget_seconds: float = 50.0) -> dict[str, Any]:
    """Send due deliveries one after another (the sweeper): picks up retries, lost task
    messages and deliveries whose sender died. Concurrent sweepers skip each other's claims."""
    deadline = time.monotonic() + budget_seconds
    counts: dict[str, Any] = {"tried": 0}
    for delivery_id in due_delivery_ids(limit):
        if time.monotonic() > deadline:
            break
        status = send_delivery(delivery_id)
        if status is not None:
            counts["tried"] += 1
            counts[status] = counts.get(status, 0) + 1
    return counts
