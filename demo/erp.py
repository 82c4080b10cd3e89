"""The ERP connector in the demo: the demo orders' captures and refunds have queued an invoice
per shipment and a credit memo per refund (erp/handlers.py); the embedded demo's endpoint is a
file drop, `file:var/erp/outbox` (oms/settings.py), so `make run` leaves one JSON file per
document there and the admin lists them under ERP connector › ERP documents."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from erp.models import DocumentKind, ErpDocument
from erp.services import send_due_documents


@dataclass(frozen=True)
class ErpDemo:
    target: str
    invoices: int
    credit_memos: int
    sent: int


def erp_summary() -> ErpDemo | None:
    """Send what is due (a document queued inside the seed's transaction is sent on commit;
    this catches any left), then count. None when no ERP endpoint is configured."""
    if not settings.OMS_ERP_ENDPOINT.strip():
        return None
    send_due_documents()
    kinds = dict(ErpDocument.objects.values_list("kind").annotate(n=Count("id")))
    return ErpDemo(
        target=settings.OMS_ERP_ENDPOINT,
        invoices=kinds.get(DocumentKind.INVOICE, 0),
        credit_memos=kinds.get(DocumentKind.CREDIT_MEMO, 0),
        sent=ErpDocument.objects.filter(status="sent").count(),
    )
