"""Figures from parts of the system that may not be installed yet, each behind a guard.

Every function returns None when its source is missing (app not installed, model or field
absent), so the dashboard can say so instead of failing:

- exception cases: model `ops.ExceptionCase` of the app `oms.ops`;
- webhook deliveries: model `integrations.WebhookDelivery` (a `status` field);
- outbox backlog: events without an `integrations.EventDispatch` row (the relay's cursor);
- manual touches: the event type `order.manual_touch`, when registered.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from oms.events import registry
from oms.events.models import Event

logger = logging.getLogger(__name__)

MANUAL_TOUCH = "order.manual_touch"
OPEN_CASE_STATUSES = ("open", "in_progress")
DELIVERY_OK = ("delivered", "succeeded", "success", "sent", "ok")
DELIVERY_FAILED = ("failed", "dead", "disabled", "error")
DELIVERY_WAITING = ("pending", "scheduled", "retrying", "queued", "sending", "in_flight")
SLA_DUE_FIELDS = ("sla_due_at", "due_at", "sla_deadline", "sla_breach_at")
OPENED_FIELDS = ("raised_at", "opened_at", "created_at")
OUTBOX_FLOOR_MARGIN = timedelta(hours=1)


def optional_model(app_module: str, app_label: str, model_name: str) -> type[models.Model] | None:
    if not apps.is_installed(app_module):
        return None
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _field_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


def _first(names: set[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in names), None)


def exception_case_model() -> type[models.Model] | None:
    model = optional_model("oms.ops", "ops", "ExceptionCase")
    if model is None or "status" not in _field_names(model):
        return None
    return model


def _queue_expression(model: type[models.Model]) -> str | None:
    if "queue" not in _field_names(model):
        return None
    field = model._meta.get_field("queue")
    if field.is_relation and field.related_model is not None:
        related = _field_names(field.related_model)
        label = _first(related, ("name", "code", "key"))
        return f"queue__{label}" if label else "queue_id"
    return "queue"


def open_exception_counts(now: datetime | None = None) -> dict[tuple[str, str], int] | None:
    """Open cases by (queue, SLA state): `breached` when the due time has passed (or a
    `sla_breached` flag is set), `within` otherwise, `none` when the case has no SLA."""
    model = exception_case_model()
    if model is None:
        return None
    now = now or timezone.now()
    names = _field_names(model)
    queue = _queue_expression(model)
    due = _first(names, SLA_DUE_FIELDS)
    annotations: dict[str, Any] = {}
    if due:
        annotations["breached"] = Count("pk", filter=Q(**{f"{due}__lt": now}))
        annotations["no_sla"] = Count("pk", filter=Q(**{f"{due}__isnull": True}))
    elif "sla_breached" in names:
        annotations["breached"] = Count("pk", filter=Q(sla_breached=True))
    qs = model._default_manager.filter(status__in=OPEN_CASE_STATUSES)
    if queue:
        rows = list(qs.values(queue).annotate(total=Count("pk"), **annotations).order_by())
    else:
        queue = "queue"
        rows = [{**qs.aggregate(total=Count("pk"), **annotations), queue: "all"}]
    result: dict[tuple[str, str], int] = {}
    for row in rows:
        breached = row.get("breached", 0)
        no_sla = row["no_sla"] if due else (0 if annotations else row["total"])
        within = row["total"] - breached - no_sla
        for state, count in (("breached", breached), ("within", within), ("none", no_sla)):
            if count:
                result[(str(row[queue] or "unassigned"), state)] = count
    return result


def exception_resolution_hours(start: datetime, end: datetime) -> list[float] | None:
    """Hours from opened to resolved of the cases resolved in [start, end)."""
    model = exception_case_model()
    if model is None:
        return None
    names = _field_names(model)
    opened = _first(names, OPENED_FIELDS)
    if opened is None or "resolved_at" not in names:
        return None
    rows = model._default_manager.filter(
        resolved_at__gte=start, resolved_at__lt=end, status="resolved"
    ).values_list(opened, "resolved_at")
    return sorted((r - o).total_seconds() / 3600 for o, r in rows if o and r)


def webhook_delivery_model() -> type[models.Model] | None:
    model = optional_model("integrations", "integrations", "WebhookDelivery")
    if model is None or "status" not in _field_names(model):
        return None
    return model


def webhook_deliveries_by_status() -> dict[str, int] | None:
    model = webhook_delivery_model()
    if model is None:
        return None
    rows = model._default_manager.values("status").annotate(n=Count("pk")).order_by()
    return {str(r["status"]): r["n"] for r in rows}


def webhook_summary(start: datetime, end: datetime) -> dict[str, Any] | None:
    """Success rate of deliveries finished in [start, end) (by creation time) and the current
    queue depth (deliveries still waiting to be sent or retried)."""
    model = webhook_delivery_model()
    if model is None:
        return None
    names = _field_names(model)
    qs = model._default_manager.all()
    if "created_at" in names:
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    agg = qs.aggregate(
        ok=Count("pk", filter=Q(status__in=DELIVERY_OK)),
        failed=Count("pk", filter=Q(status__in=DELIVERY_FAILED)),
    )
    depth = model._default_manager.filter(status__in=DELIVERY_WAITING).count()
    finished = agg["ok"] + agg["failed"]
    return {
        "ok": agg["ok"],
        "failed": agg["failed"],
        "success_rate": (100.0 * agg["ok"] / finished) if finished else None,
        "queue_depth": depth,
    }


def outbox_backlog(now: datetime | None = None) -> int | None:
    """Events with no `integrations.EventDispatch` row (not yet fanned out by the relay).

    Counted above the relay's own floor (the newest event dispatched more than an hour ago,
    see integrations/webhooks/relay.py) so the anti-join never walks the whole log."""
    dispatch = optional_model("integrations", "integrations", "EventDispatch")
    if dispatch is None:
        return None
    now = now or timezone.now()
    floor = (
        dispatch._default_manager.filter(dispatched_at__lt=now - OUTBOX_FLOOR_MARGIN)
        .order_by("-dispatched_at")
        .values_list("event_id", flat=True)
        .first()
    ) or 0
    return (
        Event.objects.filter(id__gt=floor)
        .exclude(Exists(dispatch._default_manager.filter(event_id=OuterRef("pk"))))
        .count()
    )


def manual_touch_registered() -> bool:
    try:
        registry.get(MANUAL_TOUCH)
    except LookupError:
        return False
    return True
