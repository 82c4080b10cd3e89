"""Webhook tasks. Each takes ids (or nothing), re-reads state and is idempotent: a delivery
is sent only when it is pending and due, and claiming it moves it out of "due"."""

from typing import Any

from celery import shared_task

from webhooks.relay import relay_events
from webhooks.sending import send_delivery, send_due_deliveries

RELAY_BATCH = 500
RELAY_ROUNDS = 20  # at most 10,000 events per run; the next beat continues


@shared_task(name="webhooks.tasks.relay_events_task")
def relay_events_task(batch: int = RELAY_BATCH) -> dict[str, Any]:
    total = {"events": 0, "deliveries": 0}
    for _ in range(RELAY_ROUNDS):
        result = relay_events(batch=batch)
        total["events"] += result["events"]
        total["deliveries"] += result["deliveries"]
        if result["events"] < batch:
            break
    return total


@shared_task(name="webhooks.tasks.send_delivery_task")
def send_delivery_task(delivery_id: int) -> str | None:
    return send_delivery(delivery_id)


@shared_task(name="webhooks.tasks.send_deliveries_task")
def send_deliveries_task(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        send_delivery(delivery_id)


@shared_task(name="webhooks.tasks.send_due_deliveries_task")
def send_due_deliveries_task(limit: int = 500) -> dict[str, Any]:
    return send_due_deliveries(limit=limit)
