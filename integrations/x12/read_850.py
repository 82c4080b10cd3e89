"""850 Purchase Order → :class:`PurchaseOrder` (a B2B customer orders from us).

Read: BEG (purpose, type, PO number, date), CUR (currency), REF, DTM, N1/N2/N3/N4 loops
(parties: ST ship-to, BT bill-to, BY buyer...), PO1 lines (line id, quantity, unit, unit price,
the (qualifier, id) pairs from PO1-06 on: BP buyer's part, VN vendor's part, UP/UK/EN UPC/GTIN,
SK SKU, IN buyer's item...) with the PID description after each, CTT (line count, checked).
Everything else is ignored. Pure: no Django, no domain app (docs/x12.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from integrations.x12.common import (
    ItemId,
    Party,
    PartyLoop,
    Reference,
    read_date,
    read_decimal,
    read_item_ids,
    read_reference,
    require_type,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error

PO1_ITEM_PAIRS = tuple((n, n + 1) for n in range(6, 25, 2))


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    line_id: str | None  # PO1-01 (assigned identification), echoed in the 855
    quantity: Decimal | None  # PO1-02
    unit: str | None  # PO1-03, e.g. EA
    unit_price: Decimal | None  # PO1-04
    item_ids: tuple[ItemId, ...] = ()  # PO1-06/07, -08/09, ...
    description: str | None = None  # PID-05

    def item_id(self, *qualifiers: str) -> str | None:
        for qualifier in qualifiers:
            for item in self.item_ids:
                if item.qualifier == qualifier:
                    return item.value
        return None


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    control_number: str  # ST02
    purpose: str | None  # BEG-01: 00 original, 05 replace, 01 cancel...
    order_type: str | None  # BEG-02: SA stand-alone, DS drop ship, ...
    number: str  # BEG-03
    date: dt.date | None  # BEG-05
    currency: str | None  # CUR-02
    parties: tuple[Party, ...] = ()
    references: tuple[Reference, ...] = ()
    lines: tuple[PurchaseOrderLine, ...] = field(default_factory=tuple)

    def party(self, *roles: str) -> Party | None:
        for role in roles:
            for party in self.parties:
                if party.role == role:
                    return party
        return None


def read_850(ts: TransactionSet) -> PurchaseOrder:
    require_type(ts, "850")
    beg = None
    currency = None
    references: list[Reference] = []
    parties = PartyLoop()
    lines: list[PurchaseOrderLine] = []
    line_count: int | None = None
    for segment in ts.segments:
        if parties.take(segment):
            continue
        sid = segment.id
        if sid == "BEG":
            beg = segment
        elif sid == "CUR":
            currency = segment.get(2)
        elif sid == "REF":
            references.append(read_reference(segment))
        elif sid == "PO1":
            lines.append(
                PurchaseOrderLine(
                    line_id=segment.get(1),
                    quantity=read_decimal(segment, 2),
                    unit=segment.get(3),
                    unit_price=read_decimal(segment, 4),
                    item_ids=read_item_ids(segment, PO1_ITEM_PAIRS),
                )
            )
        elif sid == "PID" and lines and lines[-1].description is None:
            last = lines[-1]
            lines[-1] = PurchaseOrderLine(
                last.line_id, last.quantity, last.unit, last.unit_price, last.item_ids,
                segment.get(5),
            )  # fmt: skip
        elif sid == "CTT":
            counted = read_decimal(segment, 1)
            line_count = int(counted) if counted is not None else None
    if beg is None or not beg.get(3):
        raise X12Error(ErrorCode.MISSING_SEGMENT, "850 without BEG-03 (PO number)", ts.index, "BEG")
    if line_count is not None and line_count != len(lines):
        raise X12Error(
            ErrorCode.INVALID_VALUE,
            f"CTT counts {line_count} lines, the 850 has {len(lines)} PO1",
            ts.index,
            "CTT",
        )
    return PurchaseOrder(
        control_number=ts.control_number,
        purpose=beg.get(1),
        order_type=beg.get(2),
        number=beg.get(3) or "",
        date=read_date(beg, 5),
        currency=currency,
        parties=tuple(parties.parties),
        references=tuple(references),
        lines=tuple(lines),
    )
