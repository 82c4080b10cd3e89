""" "Where is this order and why": one list, by time, of everything known about an order —
its events, the inbound messages about its fulfillment orders, routing decisions, exception
cases, its holds (their history rows when holds are history-tracked), and webhook deliveries
of its events when integrations has them — each with its correlation id when there is one."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError

from oms.events.selectors import events_for_stream


@dataclass(frozen=True)
class TraceEntry:
    at: datetime
    source: str
    title: str
    detail: str = ""
    correlation_id: str = ""


def order_trace(order: Any) -> list[TraceEntry]:
    entries: list[TraceEntry] = []
    for event in events_for_stream(order.stream):
        entries.append(
            TraceEntry(
                event.occurred_at, "event", event.type, event.actor_label, event.correlation_id
            )
        )
    numbers = list(order.fulfillment_orders.values_list("number", flat=True))
    inbound = apps.get_model("integrations", "InboundMessage")
    for message in inbound.objects.filter(subject__in=numbers).order_by("received_at", "id"):
        entries.append(
            TraceEntry(
                message.received_at,
                "inbound message",
                f"{message.kind} from {message.source} ({message.status})",
                message.error or message.subject,
                message.correlation_id,
            )
        )
    for decision in order.routing_decisions.order_by("id"):
        entries.append(
            TraceEntry(
                decision.created_at,
                "routing",
                f"{decision.outcome} by {decision.rule_set_label}",
                f"trigger: {decision.trigger}",
            )
        )
    for case in order.exception_cases.select_related("queue", "assignee").order_by("id"):
        who = f", {case.assignee.get_username()}" if case.assignee_id else ""
        entries.append(
            TraceEntry(
                case.raised_at,
                "exception",
                f"#{case.pk} {case.get_kind_display()} — {case.get_status_display()}",
                f"{case.queue.code} {case.priority.upper()}{who}: {case.summary}",
            )
        )
    entries += _holds(order)
    entries += _webhook_deliveries(order)
    return sorted(entries, key=lambda entry: entry.at)


def _holds(order: Any) -> list[TraceEntry]:
    hold_model = apps.get_model("orders", "Hold")
    history = getattr(hold_model, "history", None)
    if history is not None:
        rows = history.filter(order_id=order.pk).order_by("history_date")
        return [
            TraceEntry(
                row.history_date, "hold history", f"{row.kind} hold {row.status}", row.reason
            )
            for row in rows
        ]
    entries = []
    for hold in order.holds.order_by("id"):
        entries.append(TraceEntry(hold.created_at, "hold", f"{hold.kind} hold placed", hold.reason))
        if hold.released_at:
            entries.append(
                TraceEntry(
                    hold.released_at, "hold", f"{hold.kind} hold released", hold.release_note
                )
            )
    return entries


def _webhook_deliveries(order: Any) -> list[TraceEntry]:
    try:
        delivery = apps.get_model("integrations", "WebhookDelivery")
    except LookupError:
        return []
    try:
        rows = list(
            delivery.objects.filter(event__stream=order.stream)
            .select_related("event")
            .order_by("created_at", "id")[:200]
        )
    except FieldError:
        return []
    return [
        TraceEntry(
            row.created_at,
            "webhook",
            f"{row.event.type} → subscription {row.subscription_id} ({row.status})",
            f"attempts {row.attempts}"
            + (f", last {row.last_status_code}" if row.last_status_code else ""),
            row.event.correlation_id,
        )
        for row in rows
    ]
