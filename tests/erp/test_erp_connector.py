"""The ERP connector against a fake ERP (an HTTP server on 127.0.0.1, tests/channels/
fake_platform.py): an invoice per shipment when its charge is captured and a credit memo per
refund, as JSON or an X12 810; retries with backoff; dead with an integration_failed case and
sent again by a person; one document per shipment or refund even when the event comes twice;
and, on the finance month (tests/ops/test_finance.py), invoices and credit memos that tie out
with the payments and refunds exports to the cent."""

import csv
import io
import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from erp.models import ErpDocument
from erp.services import retry_document, send_due_documents
from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import accept_fulfillment, pack_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import Package, ship_fulfillment
from integrations.x12 import parse_interchange
from integrations.x12.invoice_810 import read_810
from oms.core.actors import Actor
from oms.events.handlers import dispatch
from oms.events.models import Event
from ops.models import ExceptionCase
from orders.models import PaymentTransaction
from returns.services.refunds import appease
from tests.channels.fake_platform import FakePlatform, running
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.ops.test_finance import month  # noqa: F401 - the finance month fixture

pytestmark = pytest.mark.django_db
NODE = Actor.system("dc-east")
PATH = "/erp/documents"


@pytest.fixture
def erp(settings):
    """A fake ERP that takes documents at /erp/documents (201), allowed past the SSRF guard."""
    settings.OMS_CHANNELS_ALLOWED_HOSTS = ["127.0.0.1"]
    with running(FakePlatform()) as fake:
        fake.answer("POST", PATH, {"accepted": True}, status=201)
        settings.OMS_ERP_ENDPOINT = fake.base_url + PATH
        settings.OMS_ERP_FORMAT = "json"
        settings.OMS_ERP_TOKEN = "erp-test-token"  # noqa: S105 - a test value
        yield fake


def _shipped_order(
    capture, *, skus=("TEE", "MUG"), price="19.99", currency="USD", payment_status="pending"
):
    """An order of two lines shipped from one node and captured (one shipment, one capture)."""
    node = NodeFactory(code="dc-east")
    for sku in skus:
        stocked(node, ProductFactory(sku=sku), on_hand=10)
    order = captured_order(
        channel=ChannelFactory(code="web"),
        skus=list(skus),
        unit_price=price,
        currency=currency,
        payment_status=payment_status,
    )
    with capture(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    with capture(execute=True):
        accept_fulfillment(fulfillment_id=fo.pk, actor=NODE)
        pack_fulfillment(fulfillment_id=fo.pk, actor=NODE)
        ship_fulfillment(
            fulfillment_id=fo.pk,
            packages=[Package(carrier="UPS", tracking_number="1ZERP0001")],
            actor=NODE,
        )
    return order, fo


def _capture_of(order) -> PaymentTransaction:
    return PaymentTransaction.objects.get(order=order, kind="capture", status="succeeded")


def test_a_shipment_captured_is_invoiced_once_as_json(erp, django_capture_on_commit_callbacks):
    order, fo = _shipped_order(django_capture_on_commit_callbacks)

    capture = _capture_of(order)
    posts = erp.calls("POST", PATH)
    assert len(posts) == 1
    body = posts[0].body
    assert posts[0].headers["content-type"] == "application/json"
    assert posts[0].headers["idempotency-key"] == f"INV-{fo.number}"
    assert posts[0].headers["authorization"] == "Bearer erp-test-token"
    assert body["type"] == "invoice"
    assert body["number"] == f"INV-{fo.number}"
    assert (body["order"], body["shipment"], body["currency"]) == (order.number, fo.number, "USD")
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("TEE", 1), ("MUG", 1)]
    assert body["parcels"] == [{"carrier": "UPS", "tracking_number": "1ZERP0001"}]
    # the invoice is what the capture charged, to the cent, and adds up
    assert Decimal(body["total"]) == capture.amount
    parts = sum(Decimal(line["amount"]) for line in body["lines"])
    assert parts + Decimal(body["shipping"]) + Decimal(body["shipping_tax"]) == capture.amount
    document = ErpDocument.objects.get()
    assert (document.status, document.attempts, document.amount) == ("sent", 1, capture.amount)
    assert document.payment_transaction_id == capture.pk
    assert document.last_status_code == 201
    types = list(
        Event.objects.filter(stream=f"erp-document:{document.pk}").values_list("type", flat=True)
    )
    assert types == ["erp.document_queued", "erp.document_sent"]


def test_an_order_that_arrived_paid_is_invoiced_when_it_ships(
    erp, django_capture_on_commit_callbacks
):
    order, fo = _shipped_order(django_capture_on_commit_callbacks, payment_status="paid")

    assert not PaymentTransaction.objects.filter(order=order, kind="capture").exists()
    (post,) = erp.calls("POST", PATH)
    assert post.body["number"] == f"INV-{fo.number}"
    assert Decimal(post.body["total"]) == order.grand_total  # one shipment: all of it
    document = ErpDocument.objects.get()
    assert (document.status, document.payment_transaction_id) == ("sent", None)


def test_the_capture_event_handled_twice_makes_no_second_invoice(
    erp, django_capture_on_commit_callbacks
):
    order, fo = _shipped_order(django_capture_on_commit_callbacks)
    event = Event.objects.get(type="order.payment_captured", stream=order.stream)

    # when: the capture event is handled again (a replay, a redelivery), with its subject
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        dispatch(event, _capture_of(order))
    send_due_documents()

    assert ErpDocument.objects.count() == 1
    assert len(erp.calls("POST", PATH)) == 1


def test_a_failing_erp_is_retried_with_backoff_until_it_takes_the_invoice(
    erp, django_capture_on_commit_callbacks
):
    erp.fail_first("POST", PATH, 2, status=503)
    order, fo = _shipped_order(django_capture_on_commit_callbacks)

    document = ErpDocument.objects.get()
    assert (document.status, document.attempts, document.last_status_code) == ("pending", 1, 503)
    wait = document.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < wait <= timedelta(seconds=36)  # 30 s ± 20 %
    assert send_due_documents() == {"due": 0}  # not due yet

    for expected_attempts in (2, 3):
        ErpDocument.objects.filter(pk=document.pk).update(next_attempt_at=timezone.now())
        send_due_documents()
        document.refresh_from_db()
        assert document.attempts == expected_attempts
    assert document.status == "sent"
    assert len(erp.calls("POST", PATH)) == 3
    assert {c.headers["idempotency-key"] for c in erp.calls("POST", PATH)} == {document.number}
    assert not ExceptionCase.objects.exists()


def test_an_invoice_the_erp_refuses_is_dead_with_a_case_and_sent_again_after_a_fix(
    erp, django_capture_on_commit_callbacks, settings
):
    erp.answer("POST", PATH, {"error": "unknown customer"}, status=422)
    order, fo = _shipped_order(django_capture_on_commit_callbacks)

    document = ErpDocument.objects.get()
    assert (document.status, document.attempts, document.last_status_code) == ("dead", 1, 422)
    case = ExceptionCase.objects.get(order=order)
    assert case.kind == "integration_failed"
    assert document.number in case.summary
    assert "422" in case.summary
    assert case.details["erp_document"] == document.number

    # when: the ERP's master data is fixed and a person sends it again
    erp.answer("POST", PATH, {"accepted": True}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        retry_document(document_id=document.pk, actor=Actor.system("test"))

    document.refresh_from_db()
    assert (document.status, document.attempts) == ("sent", 1)
    assert len(erp.calls("POST", PATH)) == 2


def test_an_erp_that_stays_down_makes_the_invoice_dead_after_its_attempts(
    erp, django_capture_on_commit_callbacks, settings
):
    settings.OMS_ERP_MAX_ATTEMPTS = 3
    erp.fail_first("POST", PATH, 10, status=500)
    order, fo = _shipped_order(django_capture_on_commit_callbacks)
    document = ErpDocument.objects.get()
    for _ in range(2):
        ErpDocument.objects.filter(pk=document.pk).update(next_attempt_at=timezone.now())
        send_due_documents()

    document.refresh_from_db()
    assert (document.status, document.attempts) == ("dead", 3)
    assert len(erp.calls("POST", PATH)) == 3
    assert ExceptionCase.objects.filter(order=order, kind="integration_failed").count() == 1


def test_invoice_and_credit_memo_as_x12_810(erp, django_capture_on_commit_callbacks, settings):
    settings.OMS_ERP_FORMAT = "x12"
    order, fo = _shipped_order(django_capture_on_commit_callbacks, price="1500", currency="JPY")
    with django_capture_on_commit_callbacks(execute=True):
        refund = appease(
            order_id=order.pk,
            amount=Decimal("200"),
            reason_code="price_adjustment",
            note="",
            actor=NODE,
            roles=["finance"],
        )
    assert refund.status == "succeeded"

    invoice_post, memo_post = erp.calls("POST", PATH)
    assert invoice_post.headers["content-type"] == "application/edi-x12"
    invoice = read_810(parse_interchange(invoice_post.body).transaction_sets[0])
    memo = read_810(parse_interchange(memo_post.body).transaction_sets[0])
    assert (invoice.invoice_number, invoice.transaction_type) == (f"INV-{fo.number}", "DI")
    assert (invoice.currency, invoice.purchase_order_number) == ("JPY", order.number)
    assert invoice.total == _capture_of(order).amount == Decimal("3000")
    assert [(line.sku, line.quantity, line.unit_price) for line in invoice.lines] == [
        ("TEE", 1, Decimal("1500")),
        ("MUG", 1, Decimal("1500")),
    ]
    assert (memo.invoice_number, memo.transaction_type, memo.total) == (
        f"CM-{refund.pk:08d}",
        "CR",
        Decimal("200"),
    )
    assert [(r.qualifier, r.value) for r in memo.references] == [("IV", f"INV-{fo.number}")]
    assert set(ErpDocument.objects.values_list("status", flat=True)) == {"sent"}


# --- tie-out with the finance exports ----------------------------------------------------------


@pytest.fixture
def erp_folder(settings, tmp_path):
    """The ERP as a file drop (the demo's way), set before the month is built."""
    folder = tmp_path / "erp"
    settings.OMS_ERP_ENDPOINT = f"file:{folder}"
    settings.OMS_ERP_FORMAT = "json"
    return folder


def _export(kind: str, out: Path) -> list[dict[str, str]]:
    call_command(
        "export_finance",
        f"--kind={kind}",
        "--from=2026-11-01",
        "--to=2026-11-30",
        "--format=csv",
        f"--out={out}",
        stdout=io.StringIO(),
    )
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_invoices_and_credit_memos_tie_out_with_the_finance_exports(
    erp_folder,
    month,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    # the month's appeasements ran outside captured on-commit callbacks: the sweeper sends them
    assert send_due_documents()["due"] == 3
    payments = _export("payments", tmp_path / "payments.csv")
    refunds = _export("refunds", tmp_path / "refunds.csv")
    files = {p.stem: json.loads(p.read_text()) for p in erp_folder.glob("*.json")}

    # every succeeded capture has its shipment's invoice for the same amount, and nothing else
    captures = [r for r in payments if r["kind"] == "capture" and r["status"] == "succeeded"]
    invoices = {b["shipment"]: b for b in files.values() if b["type"] == "invoice"}
    assert len(captures) == 7
    assert sorted(invoices) == sorted(r["shipment_reference"] for r in captures)
    for row in captures:
        invoice = invoices[row["shipment_reference"]]
        assert (invoice["total"], invoice["currency"]) == (row["settled_amount"], row["currency"])
    # every succeeded refund has its credit memo; the declined one has none
    paid = [r for r in refunds if r["status"] == "succeeded"]
    memos = {b["refund"]: b for b in files.values() if b["type"] == "credit_memo"}
    assert len(paid) == 4
    assert len(memos) == 4
    for row in paid:
        memo = memos[_refund_id(row)]
        assert (memo["total"], memo["currency"]) == (row["amount"], row["currency"])
    # and per currency, invoiced − credited is the payments export's net, to the cent
    net: dict[str, Decimal] = defaultdict(Decimal)
    for row in payments:
        net[row["currency"]] += Decimal(row["settled_amount"])
    documents: dict[str, Decimal] = defaultdict(Decimal)
    for body in files.values():
        sign = 1 if body["type"] == "invoice" else -1
        documents[body["currency"]] += sign * Decimal(body["total"])
    assert documents == net
    assert documents == {"USD": Decimal("1262.12"), "JPY": Decimal("2800")}
    assert set(ErpDocument.objects.values_list("status", flat=True)) == {"sent"}


def _refund_id(row: dict[str, str]) -> int:
    from returns.models import Refund

    return Refund.objects.get(payment_transaction_id=int(row["payment_transaction"])).pk
