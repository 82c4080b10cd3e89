"""Event types of the ERP connector (payloads documented in docs/events.md, "ERP")."""

from oms.events.registry import register


def stream_for_document(document_id: int) -> str:
    """An ERP document's own stream (a dead document raises its case from it)."""
    return f"erp-document:{document_id}"


ERP_DOCUMENT_QUEUED = register(
    "erp.document_queued",
    description="An invoice (a shipment's charge) or a credit memo (a refund) was queued for "
    "the ERP in the outbox.",
)
ERP_DOCUMENT_SENT = register(
    "erp.document_sent", description="The ERP took an invoice or a credit memo."
)
ERP_DOCUMENT_DEAD = register(
    "erp.document_dead",
    description="An invoice or a credit memo could not be delivered to the ERP after its "
    "retries: a person must fix the cause and send it again.",
)
ERP_DOCUMENT_RETRIED = register(
    "erp.document_retried",
    description="A person sent a dead invoice or credit memo again, with a fresh budget of "
    "attempts.",
)
