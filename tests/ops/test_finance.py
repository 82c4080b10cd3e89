"""Finance exports: formula cells neutralised (CSV and XLSX), a month of mixed orders whose
settlement ties out to the payment transactions to the cent, the export_finance command, jobs
in the request or in Celery with a download link that expires, and the finance area's access."""

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import accept_fulfillment, pack_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import Package, ship_fulfillment
from oms.core.actors import Actor
from ops.finance import exports
from ops.finance.cells import csv_text, neutralise
from ops.finance.datasets import Query
from ops.finance.settlement import settlement_rows
from ops.finance.writers import write_csv, write_xlsx
from ops.models import ExportStatus, FinanceExport
from orders.models import LineStatus, PaymentTransaction
from orders.payments import script_simulated_payment
from orders.services.cancellation import cancel_order_line
from returns.models import Refund
from returns.policy import RequestedLine
from returns.services.receipt import inspect_return, receive_return
from returns.services.refunds import appease
from returns.services.requests import ReturnRequest, request_return
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import staff_user
from tests.returns.support import ensure_default_policy

pytestmark = pytest.mark.django_db
NODE = Actor.system("dc-east")
NOVEMBER = Query(date(2026, 11, 1), date(2026, 11, 30))

# --- formula cells ------------------------------------------------------------------------------

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://x")']


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_text_cell_that_starts_a_formula_is_neutralised(text):
    assert neutralise(text) == "'" + text
    assert csv_text(text) == "'" + text


def test_numbers_and_plain_text_are_left_alone():
    assert neutralise(Decimal("-5.00")) == Decimal("-5.00")
    assert csv_text(Decimal("-5.00")) == "-5.00"
    assert neutralise("Grace Hopper") == "Grace Hopper"


def test_formula_cells_come_out_neutralised_in_csv_and_xlsx(tmp_path: Path):
    rows = [(text, Decimal("-1.50")) for text in DANGEROUS]

    write_csv(tmp_path / "x.csv", ("name", "amount"), rows)
    write_xlsx(tmp_path / "x.xlsx", ("=name", "amount"), rows)

    with (tmp_path / "x.csv").open(newline="", encoding="utf-8") as handle:
        parsed = list(csv.reader(handle))
    assert [row[0] for row in parsed[1:]] == ["'" + text for text in DANGEROUS]
    assert [row[1] for row in parsed[1:]] == ["-1.50"] * len(DANGEROUS)
    sheet = load_workbook(tmp_path / "x.xlsx").active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "'=name"
    # (a carriage return may come back as a newline, by XML's rules, depending on the writer)
    expected = ["'" + text.replace("\r", "\n") for text in DANGEROUS]
    assert [row[0].replace("\r", "\n") for row in cells[1:]] == expected
    assert all(row[0].data_type == "s" for row in sheet.iter_rows())  # text, never a formula
    assert [row[1] for row in cells[1:]] == [-1.5] * len(DANGEROUS)


# --- a month of mixed orders ------------------------------------------------------------------


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def _ship(fo: FulfillmentOrder, when: datetime, tracking: str, capture) -> None:
    with mock.patch("django.utils.timezone.now", return_value=when), capture(execute=True):
        accept_fulfillment(fulfillment_id=fo.pk, actor=NODE)
        pack_fulfillment(fulfillment_id=fo.pk, actor=NODE)
        ship_fulfillment(
            fulfillment_id=fo.pk,
            packages=[Package(carrier="UPS", tracking_number=tracking)],
            actor=NODE,
        )


@pytest.fixture
def month(django_capture_on_commit_callbacks):
    """November 2026 on two channels: six orders shipped and captured on four days (one of
    them after a line was cancelled: a partial cancel), one shipped only in part (shipped, not
    captured), one never shipped; prices with cents that do not add up in binary floats."""
    capture = django_capture_on_commit_callbacks
    east = NodeFactory(code="dc-east", priority=10)
    tee, mug = ProductFactory(sku="TEE"), ProductFactory(sku="MUG")
    ProductFactory(sku="RARE")  # stocked nowhere: its lines backorder
    stocked(east, tee, on_hand=100)
    stocked(east, mug, on_hand=100)
    web, pos = ChannelFactory(code="web"), ChannelFactory(code="pos")
    plan = [
        # (channel, day placed, skus, unit price, day shipped, currency)
        (web, 2, ["TEE"], "19.99", 3, "USD"),
        (web, 2, ["TEE", "MUG"], "0.10", 3, "USD"),
        (pos, 5, ["MUG"], "33.33", 6, "USD"),
        (web, 9, ["TEE", "RARE"], "12.35", 10, "USD"),  # RARE cancelled, then the rest ships
        (pos, 17, ["TEE"], "0.07", 18, "USD"),
        (web, 28, ["MUG"], "1234.56", 30, "USD"),
        (pos, 12, ["TEE", "MUG"], "1500", 13, "JPY"),  # no minor units
    ]
    captured = []
    for n, (channel, placed, skus, price, shipped, currency) in enumerate(plan):
        with mock.patch("django.utils.timezone.now", return_value=_at(placed)):
            order = captured_order(
                channel=channel,
                external_id=f"NOV-{n}",
                skus=skus,
                unit_price=price,
                placed_at=_at(placed, 9),
                currency=currency,
            )
            with capture(execute=True):
                orchestrate_order(order_id=order.pk)
            for line in order.lines.filter(status=LineStatus.BACKORDERED):
                cancel_order_line(order_id=order.pk, line_id=line.pk, actor=NODE, reason="gone")
        fo = FulfillmentOrder.objects.get(order=order)
        _ship(fo, _at(shipped), f"1Z{n:04d}", capture)
        captured.append(order)
    # one order of two lines at two nodes (CUP is only at dc-west), one shipped: shipped but
    # not captured
    west = NodeFactory(code="dc-west", priority=20)
    stocked(west, ProductFactory(sku="CUP"), on_hand=5)
    with mock.patch("django.utils.timezone.now", return_value=_at(20)):
        split = captured_order(
            channel=web, external_id="NOV-split", skus=["TEE", "CUP"], placed_at=_at(20, 9)
        )
        with capture(execute=True):
            orchestrate_order(order_id=split.pk)
    _ship(FulfillmentOrder.objects.get(order=split, node=east), _at(21), "1ZSPLIT", capture)
    assert FulfillmentOrder.objects.filter(order=split).count() == 2
    # never shipped
    with mock.patch("django.utils.timezone.now", return_value=_at(22)):
        waiting = captured_order(channel=pos, external_id="NOV-wait", placed_at=_at(22, 9))
    refunds = _refunds(captured, east, capture)
    return {"captured": captured, "split": split, "waiting": waiting, "refunds": refunds}


def _refunds(captured, east, capture) -> list[Refund]:
    """The money that went back: a return of 33.33 received, inspected and refunded on the
    12th; appeasements of 0.05 (the 4th) and 200 JPY (the 14th); an appeasement the provider
    declines on the 15th (failed, shown with its error, moves nothing) and one of 5.00 on the
    16th."""
    ensure_default_policy()
    east.can_accept_returns = True
    east.save(update_fields=["can_accept_returns"])
    cs = ["customer_service"]
    with mock.patch("django.utils.timezone.now", return_value=_at(4)):
        appease(
            order_id=captured[1].pk,
            amount=Decimal("0.05"),
            reason_code="late_delivery",
            note="",
            actor=NODE,
            roles=cs,
        )
    with mock.patch("django.utils.timezone.now", return_value=_at(12)), capture(execute=True):
        rma = request_return(
            order_id=captured[2].pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, 1, "defective", "opened")],
                authorize=True,
                return_node_code="dc-east",
            ),
            actor=NODE,
        )
        receive_return(return_id=rma.pk, node_id=east.pk, actor=NODE)
        inspect_return(return_id=rma.pk, dispositions={1: {"damaged": 1}}, actor=NODE)
    with mock.patch("django.utils.timezone.now", return_value=_at(14)):
        appease(
            order_id=captured[6].pk,
            amount=Decimal("200"),
            reason_code="price_adjustment",
            note="",
            actor=NODE,
            roles=["finance"],
        )
    script_simulated_payment(order_number=captured[0].number, kind="refund", outcome="decline")
    with mock.patch("django.utils.timezone.now", return_value=_at(15)):
        declined = appease(
            order_id=captured[0].pk,
            amount=Decimal("3.00"),
            reason_code="service_recovery",
            note="",
            actor=NODE,
            roles=cs,
        )
    assert declined.status == "failed"
    with mock.patch("django.utils.timezone.now", return_value=_at(16)):
        appease(
            order_id=captured[0].pk,
            amount=Decimal("5.00"),
            reason_code="service_recovery",
            note="",
            actor=NODE,
            roles=cs,
        )
    return list(Refund.objects.order_by("created_at"))


def test_the_settlement_of_a_month_ties_out_to_the_payment_transactions(month, tmp_path):
    # when: the payment transactions and the settlement, exported as finance would
    call_command(
        "export_finance",
        "--kind=payments",
        "--from=2026-11-01",
        "--to=2026-11-30",
        "--format=csv",
        f"--out={tmp_path / 'payments.csv'}",
        stdout=io.StringIO(),
    )
    call_command(
        "export_finance",
        "--kind=settlement",
        "--from=2026-11-01",
        "--to=2026-11-30",
        "--format=xlsx",
        f"--out={tmp_path / 'settlement.xlsx'}",
        stdout=io.StringIO(),
    )

    # then: per day, channel and currency, the settlement's captured, refunded and net are
    # the sums of the payment rows (summed as Decimal from the files' text), to the cent
    with (tmp_path / "payments.csv").open(newline="") as handle:
        payments = list(csv.DictReader(handle))
    sums: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in payments:
        key = (row["created_at"][:10], row["channel"], row["currency"])
        if row["status"] == "succeeded" and row["kind"] in ("capture", "refund"):
            sums[key][row["kind"]] += Decimal(row["amount"])
        sums[key]["net"] += Decimal(row["settled_amount"])
    sheet = load_workbook(tmp_path / "settlement.xlsx").active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    settled = {
        (
            row[0].date().isoformat() if isinstance(row[0], datetime) else str(row[0]),
            row[1],
            row[2],
        ): dict(zip(header, row, strict=True))
        for row in rows
    }
    money_days = {key for key, day in sums.items() if day["capture"] or day["refund"]}
    assert {key for key, row in settled.items() if row["captures"] or row["refunds"]} == money_days
    for key in money_days:
        quantum = Decimal("1") if key[2] == "JPY" else Decimal("0.01")
        for column, figure in (("captured", "capture"), ("refunded", "refund"), ("net", "net")):
            cell = Decimal(str(settled[key][column])).quantize(quantum)
            assert cell == sums[key][figure], (key, column)
        assert sums[key]["net"] == sums[key]["capture"] - sums[key]["refund"]

    # and per currency: captures − refunds over the month = the settlement's net = the
    # transactions and the refunds as the database holds them
    net_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for key, row in settled.items():
        net_by_currency[key[2]] += Decimal(str(row["net"]))
    assert net_by_currency == {
        "USD": Decimal("19.99")
        + Decimal("0.20")
        + Decimal("33.33")
        + Decimal("12.35")
        + Decimal("0.07")
        + Decimal("1234.56")
        - Decimal("0.05")
        - Decimal("33.33")
        - Decimal("5.00"),
        "JPY": Decimal("3000") - Decimal("200"),
    }
    for currency, net in net_by_currency.items():
        txs = PaymentTransaction.objects.filter(currency=currency, status="succeeded")
        captured = sum(t.amount for t in txs.filter(kind="capture"))
        refunded = sum(t.amount for t in txs.filter(kind="refund"))
        assert captured - refunded == net
        assert refunded == sum(
            r.amount for r in Refund.objects.filter(currency=currency, status="succeeded")
        )

    # the declined refund is in the export with its error, and moved nothing
    [failed] = [row for row in payments if row["status"] == "failed"]
    assert (failed["kind"], failed["amount"], failed["settled_amount"]) == (
        "refund",
        "3.00",
        "0.00",
    )
    assert failed["error"].startswith("card_declined")
    assert sorted(money_days) == [
        ("2026-11-03", "web", "USD"),
        ("2026-11-04", "web", "USD"),
        ("2026-11-06", "pos", "USD"),
        ("2026-11-10", "web", "USD"),
        ("2026-11-12", "pos", "USD"),
        ("2026-11-13", "pos", "JPY"),
        ("2026-11-14", "pos", "JPY"),
        ("2026-11-16", "web", "USD"),
        ("2026-11-18", "pos", "USD"),
        ("2026-11-30", "web", "USD"),
    ]
    assert sums[("2026-11-03", "web", "USD")]["capture"] == Decimal("19.99") + Decimal("0.20")
    assert settled[("2026-11-13", "pos", "JPY")]["captured"] == 3000


def test_refunds_and_returns_exports_name_the_return_or_the_appeasement(month, tmp_path):
    for kind in ("refunds", "returns"):
        exports.export_to_path(
            kind=kind, file_format="csv", query=NOVEMBER, path=tmp_path / f"{kind}.csv"
        )
    with (tmp_path / "refunds.csv").open(newline="") as handle:
        refunds = list(csv.DictReader(handle))
    with (tmp_path / "returns.csv").open(newline="") as handle:
        [rma] = list(csv.DictReader(handle))

    assert [
        (r["return_number"], r["kind"], r["reason_code"], r["status"], r["amount"]) for r in refunds
    ] == [
        ("appeasement", "appeasement", "late_delivery", "succeeded", "0.05"),
        (rma["return_number"], "return", "defective", "succeeded", "33.33"),
        ("appeasement", "appeasement", "price_adjustment", "succeeded", "200"),
        ("appeasement", "appeasement", "service_recovery", "failed", "3.00"),
        ("appeasement", "appeasement", "service_recovery", "succeeded", "5.00"),
    ]
    transactions = {t.pk: t for t in PaymentTransaction.objects.filter(kind="refund")}
    for row in refunds:
        tx = transactions[int(row["payment_transaction"])]
        assert (
            str(tx.amount.quantize(Decimal("0.01") if tx.currency == "USD" else Decimal(1))),
            tx.status,
        ) == (row["amount"], row["status"])
    assert refunds[3]["error"].startswith("card_declined")
    assert rma["order_number"] == month["captured"][2].number
    assert (rma["status"], rma["units"], rma["received"], rma["damaged"], rma["restocked"]) == (
        "closed",
        "1",
        "1",
        "1",
        "0",
    )
    assert rma["lines"] == "MUG × 1 (defective)"
    assert rma["refunded"] == "33.33"


def test_the_settlement_counts_shipped_but_not_captured(month):
    rows = list(settlement_rows(NOVEMBER))

    day_21 = [row for row in rows if row[0] == date(2026, 11, 21)]
    assert len(day_21) == 1
    (_day, channel, currency, captures, *_rest, snc_orders, snc_amount, cns_orders, _cns) = day_21[
        0
    ]
    assert (channel, currency, captures, snc_orders) == ("web", "USD", 0, 1)
    assert snc_amount == month["split"].grand_total.quantize(Decimal("0.01"))
    assert cns_orders == 0
    assert sum(row[10] for row in rows) == 0  # nothing captured that did not ship


def test_the_partial_cancel_is_captured_for_what_shipped(month):
    partial = month["captured"][3]
    assert partial.lines.filter(status=LineStatus.CANCELLED).count() == 1
    [row] = [row for row in settlement_rows(NOVEMBER) if row[0] == date(2026, 11, 10)]
    assert row[3] == 1  # one capture that day


# --- the command, the jobs, the link ------------------------------------------------------------


def test_export_finance_refuses_an_unknown_kind_in_words(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No finance dataset 'nope'"):
        call_command(
            "export_finance",
            "--kind=nope",
            "--from=2026-11-01",
            "--to=2026-11-30",
            f"--out={tmp_path / 'x.csv'}",
        )


def test_orders_and_lines_exports_carry_the_currency_minor_units(month, tmp_path):
    exports.export_to_path(
        kind="lines", file_format="csv", query=NOVEMBER, path=tmp_path / "lines.csv"
    )
    with (tmp_path / "lines.csv").open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert {row["unit_price"] for row in lines} >= {"19.99", "0.10", "1234.56"}
    assert all(len(row["total"].split(".")[1]) == 2 for row in lines if row["currency"] == "USD")
    assert {row["total"] for row in lines if row["currency"] == "JPY"} == {"1500"}


def test_a_small_export_is_ready_at_once_and_its_link_expires(month, settings, tmp_path):
    settings.OMS_EXPORT_DIR = tmp_path
    user = staff_user("fin", "finance")

    export = exports.request_export(
        kind="orders",
        file_format="xlsx",
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 30),
        user=user,
    )

    assert export.status == ExportStatus.DONE
    assert export.rows_done == 9
    token = exports.download_token(export)
    assert exports.export_for_token(token) == export
    FinanceExport.objects.filter(pk=export.pk).update(
        expires_at=export.finished_at - timedelta(seconds=1)
    )
    assert exports.export_for_token(token) is None
    assert exports.export_for_token("forged") is None


def test_a_large_export_runs_in_celery_with_progress(
    month, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.OMS_EXPORT_DIR = tmp_path
    monkeypatch.setattr(exports, "INLINE_ROWS", 3)  # the threshold, scaled down

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        export = exports.request_export(
            kind="lines", file_format="csv", date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)
        )
    assert export.status == ExportStatus.QUEUED
    assert len(callbacks) == 1

    callbacks[0]()  # the task (eager) runs the job

    export.refresh_from_db()
    assert export.status == ExportStatus.DONE
    assert (export.rows_done, export.rows_total, export.progress) == (13, 13, 100)
    exports.run_export(export_id=export.pk)  # a redelivered task does nothing
    assert FinanceExport.objects.get(pk=export.pk).finished_at == export.finished_at


def test_finance_asks_for_an_export_and_downloads_it_from_the_admin(
    month, settings, tmp_path, client
):
    settings.OMS_EXPORT_DIR = tmp_path
    client.force_login(staff_user("fin", "finance"))

    response = client.post(
        reverse("admin:ops_financeexport_add"),
        {
            "kind": "payments",
            "file_format": "csv",
            "date_from": "2026-11-01",
            "date_to": "2026-11-30",
            "channel_code": "",
            "currency": "usd",
        },
    )

    assert response.status_code == 302
    export = FinanceExport.objects.get()
    usd = PaymentTransaction.objects.filter(currency="USD").count()
    assert (export.status, export.currency, export.rows_done) == ("done", "USD", usd)
    listing = client.get(reverse("admin:ops_financeexport_changelist")).content.decode()
    [url] = re.findall(r'href="(/admin/ops/financeexport/download/[^"]+/)"', listing)
    download = client.get(url)
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert body.startswith(
        "created_at,order_number,channel,shipment_reference,kind,status,currency,amount,"
        "settled_amount,provider_reference,error"
    )
    settlement = client.get(
        reverse("admin:ops_financeexport_settlement"),
        {"date_from": "2026-11-01", "date_to": "2026-11-30"},
    )
    assert settlement.status_code == 200
    page = settlement.content.decode()
    assert "1234.56" in page
    # the range totals per currency: captured − refunded = net
    assert re.search(
        r"USD</th><td class=\"num\">6</td><td class=\"num\">1300.50</td>"
        r"<td class=\"num\">3</td><td class=\"num\">38.38</td>"
        r"<td class=\"num\"><strong>1262.12</strong>",
        page,
    )
    assert re.search(
        r"JPY</th><td class=\"num\">1</td><td class=\"num\">3000</td>"
        r"<td class=\"num\">1</td><td class=\"num\">200</td>"
        r"<td class=\"num\"><strong>2800</strong>",
        page,
    )


def test_customer_service_has_no_finance_area(client):
    client.force_login(staff_user("cs", "customer_service"))

    assert client.get(reverse("admin:ops_financeexport_changelist")).status_code == 403
    assert client.get(reverse("admin:ops_financeexport_settlement")).status_code == 403
