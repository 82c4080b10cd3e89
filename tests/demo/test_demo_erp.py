"""The demo's ERP: seed_demo leaves an invoice per shipment captured and a credit memo per refund
where OMS_ERP_ENDPOINT points (the embedded demo's file drop; here a folder in tmp_path)."""

from io import StringIO

import pytest
from django.core.management import call_command

from erp.models import ErpDocument


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_sends_invoices_and_credit_memos_to_the_demo_erp(settings, tmp_path):
    """The embedded demo's ERP is a file drop (oms/settings.py); here one in tmp_path."""
    settings.OMS_ERP_ENDPOINT = f"file:{tmp_path}"

    out = seed()

    invoices = ErpDocument.objects.filter(kind="invoice")
    memos = ErpDocument.objects.filter(kind="credit_memo")
    assert invoices.exists()
    assert memos.exists()
    assert set(ErpDocument.objects.values_list("status", flat=True)) == {"sent"}
    assert (
        f"ERP: {invoices.count()} invoices (one per shipment captured) and {memos.count()} "
        f"credit memos (one per refund), {invoices.count() + memos.count()} sent to "
        f"file:{tmp_path}"
    ) in out
    files = sorted(path.name for path in tmp_path.glob("*.json"))
    assert files == sorted(
        f"{number}.json" for number in ErpDocument.objects.values_list("number", flat=True)
    )
    total = ErpDocument.objects.count()
    seed()
    assert ErpDocument.objects.count() == total  # once per shipment or refund
