"""Channel tasks: take ids (or nothing), re-read state, idempotent (a call is sent only when it
is pending and due; claiming it moves it out of "due")."""

from typing import Any

from celery import shared_task

from channels.services.edi import import_edi_inboxes
from channels.services.outbound import send_call, send_due_calls
from channels.services.polling import poll_channels


@shared_task(name="channels.tasks.send_call_task")
def send_call_task(call_id: int) -> str | None:
    return send_call(call_id)


@shared_task(name="channels.tasks.send_due_calls_task")
def send_due_calls_task(limit: int = 200) -> dict[str, Any]:
    return send_due_calls(limit=limit)


@shared_task(name="channels.tasks.poll_channels_task")
def poll_channels_task() -> list[dict[str, Any]]:
    return poll_channels()


@shared_task(name="channels.tasks.import_edi_inboxes_task")
def import_edi_inboxes_task() -> dict[str, dict[str, int]]:
    """Each EDI partner's inbox folder (channels/services/edi.py): a file is taken once (it
    moves out of the inbox), an interchange once (by its control number)."""
    return import_edi_inboxes()
