"""Figures from the exception console, the webhook relay and the outbox, read with plain ORM
queries (portable: the dashboard and the scrape-time gauges of ops/metrics.py use
them on PostgreSQL and on the SQLite demo alike):

- exception cases: `ops.ExceptionCase` (queue, SLA due time, raised → resolved);
- webhook deliveries: `integrations.WebhookDelivery` by status;
- outbox backlog: events without an `integrations.EventDispatch` row (the relay's cursor).
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from integrations.models import DeliveryStatus, EventDispatch, WebhookDelivery
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase

# As webhooks/relay.py RELAY_FLOOR_MARGIN: events below the newest one dispatched
# this long ago are all committed and seen by the relay.
OUTBOX_FLOOR_MARGIN = timedelta(hours=1)


def open_exception_counts(now: datetime | None = None) -> dict[tuple[str, str], int]:
    """Open cases by (queue name, SLA state): `breached` when `sla_due_at` has passed,
    `within` otherwise. Only non-zero counts."""
    now = now or timezone.now()
    rows = (
        ExceptionCase.objects.unresolved()
        .values("queue__name")
        .annotate(total=Count("pk"), breached=Count("pk", filter=Q(sla_due_at__lt=now)))
        .order_by()
    )
    result: dict[tuple[str, str], int] = {}
    for row in rows:
        for state, count in (
            ("breached", row["breached"]),
            ("within", row["total"] - row["breached"]),
        ):
            if count:
                result[(row["queue__name"], state)] = count
    return result


def exception_resolution_hours(start: datetime, end: datetime) -> list[float]:
    """Hours from raised to resolved of the cases resolved in [start, end), sorted."""
    rows = ExceptionCase.objects.filter(
        status=CaseStatus.RESOLVED, resolved_at__gte=start, resolved_at__lt=end
    ).values_list("raised_at", "resolved_at")
    return sorted((resolved - raised).total_seconds() / 3600 for raised, resolved in rows)


def webhook_deliveries_by_status() -> dict[str, int]:
    rows = WebhookDelivery.objects.values("status").annotate(n=Count("pk")).order_by()
    return {r["status"]: r["n"] for r in rows}


def webhook_summary(start: datetime, end: datetime) -> dict[str, Any]:
    """Success rate (delivered / (delivered + dead)) of the deliveries created in [start, end)
    and the current queue depth (deliveries pending: waiting to be sent or retried)."""
    agg = WebhookDelivery.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        ok=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.DEAD)),
    )
    depth = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
    finished = agg["ok"] + agg["failed"]
    return {
        "ok": agg["ok"],
        "failed": agg["failed"],
        "success_rate": (100.0 * agg["ok"] / finished) if finished else None,
        "queue_depth": depth,
    }


def outbox_backlog(now: datetime | None = None) -> int:
    """Events with no `integrations.EventDispatch` row (not yet fanned out by the relay).

    Counted above the relay's own floor (the newest event dispatched more than an hour ago,
    see webhooks/relay.py) so the anti-join never walks the whole log."""
    now = now or timezone.now()
    floor = (
        EventDispatch.objects.filter(dispatched_at__lt=now - OUTBOX_FLOOR_MARGIN)
        .order_by("-dispatched_at")
        .values_list("event_id", flat=True)
        .first()
    ) or 0
    return (
        Event.objects.filter(id__gt=floor)
        .exclude(Exists(EventDispatch.objects.filter(event_id=OuterRef("pk"))))
        .count()
    )
