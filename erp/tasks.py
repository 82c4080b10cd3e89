"""ERP tasks: take ids (or nothing), re-read state, idempotent (a document is sent only when it
is pending and due; claiming it moves it out of "due")."""

from typing import Any

from celery import shared_task

from erp.services import send_document, send_due_documents


@shared_task(name="erp.tasks.send_document_task")
def send_document_task(document_id: int) -> str | None:
    return send_document(document_id)


@shared_task(name="erp.tasks.send_due_documents_task")
def send_due_documents_task(limit: int = 200) -> dict[str, Any]:
    return send_due_documents(limit=limit)
