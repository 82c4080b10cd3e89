"""X12 846 Inventory Inquiry/Advice → :class:`InventoryAdvice`.

A warehouse (a 3PL on the X12 file connector) reports the stock it holds. Read (X12 004010
layout): BIA (header: 01 purpose, 02 report type, 03 reference (mandatory), 04 date, 05 time),
CUR, DTM and REF (header dates and references), N1 loops (parties), then one loop per item: LIN
(01 line number, then up to 15 pairs of item id qualifier and value from 02/03), PID
(description, 05), and its QTY (01 qualifier: 17 on hand, 33 available for sale, QH on hold...,
02 quantity, 03 unit when sent there) each with an optional UIT (01 unit) after it, REF and DTM.
CTT closes the items. Everything else is kept, in order, in ``unknown_segments`` of the advice
(header) or of the item it appeared in. Pure: no Django, no domain app (docs/x12.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from integrations.x12.common import (
    ItemId,
    ItemIdentified,
    Party,
    PartyLoop,
    QualifiedDate,
    Reference,
    invalid,
    read_date,
    read_decimal,
    read_dtm,
    read_item_ids,
    require_type,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Segment

LIN_ITEM_PAIRS = tuple((position, position + 1) for position in range(2, 32, 2))


@dataclass(frozen=True, slots=True)
class StockQuantity:
    qualifier: str  # QTY-01: 17 quantity on hand, 33 available for sale, QH on hold...
    quantity: Decimal | None  # QTY-02
    unit: str | None = None  # QTY-03 (its first component), else the UIT-01 after the QTY


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryItem(ItemIdentified):
    line_number: str | None = None  # LIN-01
    item_ids: tuple[ItemId, ...] = ()  # LIN-02/03 ... LIN-30/31
    description: str | None = None  # PID-05 (several PID joined with a space)
    quantities: tuple[StockQuantity, ...] = ()
    references: tuple[Reference, ...] = ()  # REF in the item loop
    dates: tuple[QualifiedDate, ...] = ()  # DTM in the item loop
    unknown_segments: tuple[Segment, ...] = ()

    def quantity(self, *qualifiers: str) -> StockQuantity | None:
        """The first quantity whose qualifier is in ``qualifiers`` (in that order)."""
        for qualifier in qualifiers:
            for found in self.quantities:
                if found.qualifier == qualifier:
                    return found
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryAdvice:
    purpose: str  # BIA-01: 00 original, 05 replace...
    report_type: str  # BIA-02: DD distributor inventory report, MM manufacturer, ...
    reference: str  # BIA-03 (mandatory)
    date: dt.date | None = None  # BIA-04
    time: str | None = None  # BIA-05 (HHMM[SS])
    currency: str | None = None  # CUR-02
    parties: tuple[Party, ...] = ()  # N1 loops
    references: tuple[Reference, ...] = ()  # header REF
    dates: tuple[QualifiedDate, ...] = ()  # header DTM
    items: tuple[InventoryItem, ...] = ()
    item_count: int | None = None  # CTT-01
    unknown_segments: tuple[Segment, ...] = ()


def _reference(segment: Segment) -> Reference:
    return Reference(segment.get(1) or "", segment.get(2) or "", segment.get(3))


class _ItemBuilder:
    def __init__(self, lin: Segment) -> None:
        self.lin = lin
        self.descriptions: list[str] = []
        self.quantities: list[StockQuantity] = []
        self.references: list[Reference] = []
        self.dates: list[QualifiedDate] = []
        self.unknown: list[Segment] = []

    def read(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "QTY":
            unit = next(iter(segment.components(3)), None) or None
            quantity = StockQuantity(segment.get(1) or "", read_decimal(segment, 2), unit)
            self.quantities.append(quantity)
        elif sid == "UIT" and self.quantities and self.quantities[-1].unit is None:
            last = self.quantities[-1]
            unit = next(iter(segment.components(1)), None) or None
            self.quantities[-1] = StockQuantity(last.qualifier, last.quantity, unit)
        elif sid == "PID":
            if text := segment.get(5):
                self.descriptions.append(text)
        elif sid == "REF":
            self.references.append(_reference(segment))
        elif sid == "DTM":
            self.dates.append(read_dtm(segment))
        else:
            self.unknown.append(segment)

    def build(self) -> InventoryItem:
        return InventoryItem(
            line_number=self.lin.get(1),
            item_ids=read_item_ids(self.lin, LIN_ITEM_PAIRS),
            description=" ".join(self.descriptions) or None,
            quantities=tuple(self.quantities),
            references=tuple(self.references),
            dates=tuple(self.dates),
            unknown_segments=tuple(self.unknown),
        )


def read_846(ts: TransactionSet) -> InventoryAdvice:
    """Read one 846 transaction set; raises X12Error for any other set, a missing BIA (or one
    without its mandatory reference, BIA-03), or a value that cannot be read."""
    require_type(ts, "846")
    bia: Segment | None = None
    currency: str | None = None
    parties = PartyLoop()
    references: list[Reference] = []
    dates: list[QualifiedDate] = []
    unknown: list[Segment] = []
    items: list[_ItemBuilder] = []
    item: _ItemBuilder | None = None
    ctt: Segment | None = None

    for segment in ts.segments:
        sid = segment.id
        if sid == "LIN":
            item = _ItemBuilder(segment)
            items.append(item)
        elif sid == "CTT":
            ctt, item = ctt or segment, None
        elif item is not None:
            item.read(segment)
        elif parties.take(segment):
            continue
        elif sid == "BIA" and bia is None:
            bia = segment
        elif sid == "CUR" and currency is None:
            currency = segment.get(2)
        elif sid == "REF":
            references.append(_reference(segment))
        elif sid == "DTM":
            dates.append(read_dtm(segment))
        else:
            unknown.append(segment)

    if bia is None or not bia.get(3):
        raise X12Error(
            ErrorCode.MISSING_SEGMENT,
            f"846 {ts.control_number} has no BIA with a reference (BIA-03)",
            ts.index,
            "ST",
        )
    item_count = read_decimal(ctt, 1) if ctt is not None else None
    if ctt is not None and item_count is not None and item_count != int(item_count):
        raise invalid(ctt, 1, "a whole number of items")
    return InventoryAdvice(
        purpose=bia.get(1) or "",
        report_type=bia.get(2) or "",
        reference=bia.get(3) or "",
        date=read_date(bia, 4),
        time=bia.get(5),
        currency=currency,
        parties=tuple(parties.parties),
        references=tuple(references),
        dates=tuple(dates),
        items=tuple(builder.build() for builder in items),
        item_count=int(item_count) if item_count is not None else None,
        unknown_segments=tuple(unknown),
    )
