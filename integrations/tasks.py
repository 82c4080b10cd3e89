"""Inbound log tasks: take nothing, re-read state, idempotent."""

from celery import shared_task

from integrations.inbound import retry_due_messages


@shared_task(name="integrations.tasks.retry_inbound_messages_task")
def retry_inbound_messages_task(limit: int = 100) -> dict[str, int]:
    return retry_due_messages(limit=limit)
