"""810 Invoice: the writer (OMS → ERP: an invoice per shipment, a credit memo per refund) and a
reader of the header, lines and totals (used to check what we write against the corpus's 810s).

The segments written, in the order of the 004010 810 (the corpus's 810s use the same ones):

    BIG   01 invoice date · 02 invoice number · 04 purchase order (our order number) ·
          07 transaction type: DI debit invoice, CR credit memo
    CUR   SE (selling party) · the ISO 4217 currency
    REF   references, e.g. IV the invoice a credit memo credits, BM the shipment, OQ the order
    N1    parties with N3/N4 (BT bill to, ST ship to)
    DTM   011 shipped
    IT1   01 line number · 02 quantity · 03 unit (EA) · 04 unit price · 06/07 SK and the SKU
    PID   F free-form description
    TDS   01 total invoice amount, an N2 number (implied two decimals: 365.96 → 36596, for
          every currency, as the standard defines it; JPY 3000 → 300000)
    TXI   TX tax · the tax amount
    SAC   C (charge) G830 shipping and handling · amount in N2 like TDS
    CTT   the number of IT1 lines

A credit memo is an 810 whose BIG07 is CR: it says the amounts are owed back, so they stay
positive (the ERP books them as a credit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from integrations.x12.common import (
    ItemId,
    ItemIdentified,
    Party,
    Reference,
    invalid,
    read_date,
    read_decimal,
    read_item_ids,
    read_reference,
    require_type,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Delimiters, Segment
from integrations.x12.write import DEFAULT_DELIMITERS, Row, _interchange, _parties, _refuse

DEBIT_INVOICE = "DI"
CREDIT_MEMO = "CR"
CENTS = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLine(ItemIdentified):
    line_number: str | None = None  # IT1-01
    quantity: Decimal | None = None  # IT1-02
    unit: str | None = None  # IT1-03
    unit_price: Decimal | None = None  # IT1-04
    item_ids: tuple[ItemId, ...] = ()  # IT1-06/07, 08/09...
    description: str | None = None  # PID-05


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    invoice_number: str  # BIG-02
    invoice_date: dt.date | None = None  # BIG-01
    purchase_order_number: str | None = None  # BIG-04
    transaction_type: str | None = None  # BIG-07: DI, CR...
    currency: str | None = None  # CUR-02
    references: tuple[Reference, ...] = ()
    parties: tuple[Party, ...] = ()
    shipped_on: dt.date | None = None  # DTM 011
    lines: tuple[InvoiceLine, ...] = ()
    total: Decimal | None = None  # TDS-01, in currency units (the N2 read back)
    tax: Decimal | None = None  # TXI-02
    charges: tuple[tuple[str, Decimal], ...] = field(default=())  # SAC C: (code, amount)

    @property
    def is_credit_memo(self) -> bool:
        return self.transaction_type == CREDIT_MEMO


def _n2(value: Decimal, segment_id: str) -> int:
    cents = value * CENTS
    if cents != cents.to_integral_value():
        raise _refuse(segment_id, f"{value} has more than two decimals (an N2 cannot carry it)")
    return int(cents)


def _body_810(invoice: Invoice) -> list[Row]:
    if not invoice.invoice_number or invoice.invoice_date is None:
        raise _refuse("BIG", "BIG-01 (invoice date) and BIG-02 (invoice number) are mandatory")
    if invoice.total is None:
        raise _refuse("TDS", "TDS-01 (total invoice amount) is mandatory")
    rows: list[Row] = [
        ["BIG", invoice.invoice_date, invoice.invoice_number, None,
         invoice.purchase_order_number, None, None, invoice.transaction_type],
    ]  # fmt: skip
    if invoice.currency:
        rows.append(["CUR", "SE", invoice.currency])
    rows += [["REF", r.qualifier, r.value, r.description] for r in invoice.references]
    rows += _parties(*invoice.parties)
    if invoice.shipped_on is not None:
        rows.append(["DTM", "011", invoice.shipped_on])
    for number, line in enumerate(invoice.lines, start=1):
        if line.quantity is None or line.unit_price is None or not line.item_ids:
            raise _refuse("IT1", f"line {number}: quantity, unit price and an item id are needed")
        ids: list[str | None] = [v for item in line.item_ids for v in (item.qualifier, item.value)]
        rows.append(
            ["IT1", line.line_number or str(number), line.quantity, line.unit or "EA",
             line.unit_price, None, *ids]
        )  # fmt: skip
        if line.description:
            rows.append(["PID", "F", None, None, None, line.description[:80]])
    rows.append(["TDS", _n2(invoice.total, "TDS")])
    if invoice.tax is not None:
        rows.append(["TXI", "TX", invoice.tax])
    rows += [["SAC", "C", code, None, None, _n2(amount, "SAC")] for code, amount in invoice.charges]
    rows.append(["CTT", len(invoice.lines)])
    return rows


def write_810(
    invoices: Invoice | Sequence[Invoice],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    version: str = "004010",
    usage: str = "P",
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    line_breaks: bool = True,
) -> str:
    """One interchange, one group (GS01 IN), one 810 per invoice; see ``write_940``."""
    batch = [invoices] if isinstance(invoices, Invoice) else list(invoices)
    return _interchange(
        [_body_810(invoice) for invoice in batch],
        functional_id="IN",
        set_id="810",
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_number=control_number,
        now=now,
        sender_qualifier=sender_qualifier,
        receiver_qualifier=receiver_qualifier,
        version=version,
        usage=usage,
        delimiters=delimiters,
        line_breaks=line_breaks,
    )


def read_810(ts: TransactionSet) -> Invoice:
    """The header, lines and totals of an 810 (other segments, e.g. ITD terms, are skipped)."""
    require_type(ts, "810")
    big: Segment | None = None
    currency: str | None = None
    shipped_on: dt.date | None = None
    total: Decimal | None = None
    tax: Decimal | None = None
    references: list[Reference] = []
    parties: list[Party] = []
    lines: list[InvoiceLine] = []
    charges: list[tuple[str, Decimal]] = []
    for segment in ts.segments:
        match segment.id:
            case "BIG":
                big = segment
            case "CUR":
                currency = segment.get(2)
            case "REF" if not lines:
                references.append(read_reference(segment))
            case "N1" if not lines:
                parties.append(Party(role=segment.get(1) or "", name=segment.get(2)))
            case "DTM" if segment.get(1) == "011":
                shipped_on = read_date(segment, 2)
            case "IT1":
                pairs = [(n, n + 1) for n in range(6, len(segment.elements) + 1, 2)]
                lines.append(
                    InvoiceLine(
                        line_number=segment.get(1),
                        quantity=read_decimal(segment, 2),
                        unit=segment.get(3),
                        unit_price=read_decimal(segment, 4),
                        item_ids=read_item_ids(segment, pairs),
                    )
                )
            case "PID" if lines and lines[-1].description is None:
                lines[-1] = replace(lines[-1], description=segment.get(5))
            case "TDS":
                amount = read_decimal(segment, 1)
                if amount is None or amount != amount.to_integral_value():
                    raise invalid(segment, 1, "an N2 amount (whole cents)")
                total = amount / CENTS
            case "TXI" if tax is None:
                tax = read_decimal(segment, 2)
            case "SAC" if total is not None:  # summary charges (line SACs come before TDS)
                amount = read_decimal(segment, 5)
                if segment.get(1) == "C" and segment.get(2) and amount is not None:
                    charges.append((segment.get(2) or "", amount / CENTS))
    if big is None or not big.get(2):
        raise X12Error(ErrorCode.MISSING_SEGMENT, "an 810 needs a BIG", ts.index, "BIG")
    return Invoice(
        invoice_number=big.get(2) or "",
        invoice_date=read_date(big, 1),
        purchase_order_number=big.get(4),
        transaction_type=big.get(7),
        currency=currency,
        references=tuple(references),
        parties=tuple(parties),
        shipped_on=shipped_on,
        lines=tuple(lines),
        total=total,
        tax=tax,
        charges=tuple(charges),
    )
