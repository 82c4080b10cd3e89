"""The 810 invoice codec: the corpus's real 810s read (header, lines, totals), and what we
write reads back to the same invoice with the corpus's segment vocabulary."""

import datetime as dt
from decimal import Decimal

import pytest

from integrations.x12 import ItemId, Party, Reference, X12Error, parse_interchanges
from integrations.x12.invoice_810 import Invoice, InvoiceLine, read_810, write_810
from tests.corpus import corpus, needs

EDI = "edi"


def _invoices(name: str) -> list[Invoice]:
    data = corpus(f"{EDI}/{name}").read_bytes()
    return [
        read_810(ts)
        for interchange in parse_interchanges(data, strict=False)
        for ts in interchange.transaction_sets
    ]


@needs(EDI)
def test_the_corpus_810s_read():
    (ariba,) = _invoices("x12_810__edinet_810a.edi")
    assert (ariba.invoice_number, ariba.transaction_type, ariba.currency) == (
        "DO091003TESTINV01",
        "DI",
        "USD",
    )
    assert ariba.total == Decimal("365.96")  # TDS*36596: N2, implied two decimals
    assert [(line.quantity, line.unit_price, line.item_ids) for line in ariba.lines] == [
        (2, Decimal("99.99"), (ItemId("VP", "ID001"),)),
        (2, Decimal("79.99"), (ItemId("VP", "ID002"),)),
    ]
    assert ariba.charges == (("G830", Decimal("6.00")), ("H850", Decimal("0")))
    first, second = _invoices("x12_810__oopfactory_example3_multiinvoice.edi")
    assert (first.invoice_number, first.total, len(first.lines)) == (
        "465266",
        Decimal("8432.02"),
        4,
    )
    assert (second.invoice_number, second.total, len(second.lines)) == (
        "465267",
        Decimal("1129.92"),
        1,
    )
    (walmart,) = _invoices("x12_810__oopfactory_example5_walmart.edi")
    assert (walmart.invoice_number, walmart.total) == ("6463367", Decimal("3875.30"))
    assert walmart.lines[0].upc == "022108955228"


INVOICE = Invoice(
    invoice_number="INV-OMS-7ZN4-H38A/1",
    invoice_date=dt.date(2026, 11, 3),
    purchase_order_number="OMS-7ZN4-H38A",
    transaction_type="DI",
    currency="USD",
    references=(Reference("BM", "OMS-7ZN4-H38A/1"),),
    parties=(Party(role="ST", name="Grace Hopper"),),
    shipped_on=dt.date(2026, 11, 3),
    lines=(
        InvoiceLine(
            line_number="1",
            quantity=Decimal(2),
            unit="EA",
            unit_price=Decimal("19.99"),
            item_ids=(ItemId("SK", "TEE"),),
            description="Tee",
        ),
    ),
    total=Decimal("45.98"),
    tax=Decimal("1.00"),
    charges=(("G830", Decimal("5.00")),),
)


def test_an_invoice_written_reads_back_the_same():
    text = write_810(
        INVOICE,
        sender_id="OMS",
        receiver_id="ERP",
        control_number=7,
        now=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
    )

    (interchange,) = parse_interchanges(text)
    assert interchange.groups[0].functional_id == "IN"
    (ts,) = interchange.transaction_sets
    assert read_810(ts) == INVOICE
    ids = [segment.id for segment in ts.segments]
    assert ids == ["BIG", "CUR", "REF", "N1", "DTM", "IT1", "PID", "TDS", "TXI", "SAC", "CTT"]
    # the segments the corpus's Ariba 810 uses for the same things
    ariba = corpus(f"{EDI}/x12_810__edinet_810a.edi")
    if ariba.is_file():
        (sample,) = parse_interchanges(ariba.read_bytes(), strict=False)[0].transaction_sets
        assert set(ids) - {"TXI"} <= {segment.id for segment in sample.segments}
    assert "TDS*4598~" in text
    assert "SAC*C*G830***500~" in text


def test_an_amount_an_n2_cannot_carry_is_refused():
    with pytest.raises(X12Error, match="two decimals"):
        write_810(
            Invoice(
                invoice_number="X",
                invoice_date=dt.date(2026, 11, 3),
                lines=INVOICE.lines,
                total=Decimal("1.005"),
            ),
            sender_id="OMS",
            receiver_id="ERP",
            control_number=1,
            now=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
        )
