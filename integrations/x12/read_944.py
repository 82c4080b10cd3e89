"""944 Warehouse Stock Transfer Receipt Advice → :class:`WarehouseReceiptAdvice`.

A warehouse confirms what it received: a stock transfer, or (reporting code C) goods a customer
returned. Read (X12 004010 layout): W17 (header), N1/N2/N3/N4 loops (parties), N9 (references),
G62 (dates), NTE (notes), then one detail loop per item: an optional LX (line number), W07 (the
quantity received and the item), G69 (description), N9 (references), W13 (exceptions: units
damaged, on hold...), and W14 (totals). Everything else is kept, in order, in
``unknown_segments`` of the advice (header) or of the line it appeared in. Pure: no Django, no
domain app (docs/x12.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from integrations.x12.common import (
    HeaderParts,
    ItemId,
    ItemIdentified,
    LineParts,
    Note,
    Party,
    QualifiedDate,
    Reference,
    first_reference,
    invalid,
    read_date,
    read_decimal,
    read_item_ids,
    require_type,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Segment

W07_ITEM_PAIRS = ((4, 5), (6, 7), (10, 11))
CUSTOMER_RETURN = "C"  # W17-01: customer return, full detail


@dataclass(frozen=True, slots=True)
class ReceiptException:
    """W13: units of a line received in another condition (01 damaged, 02 on hold...)."""

    quantity: Decimal | None  # W13-01
    unit: str | None  # W13-02
    condition: str | None  # W13-03 receiving condition code
    lot_number: str | None = None  # W13-04
    damage_reason: str | None = None  # W13-05


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptLine(ItemIdentified):
    line_number: str | None = None  # LX-01, when the warehouse sends one
    quantity_received: Decimal  # W07-01
    unit: str | None = None  # W07-02 (EA each, CA case...)
    upc_case_code: str | None = None  # W07-03
    item_ids: tuple[ItemId, ...] = ()  # W07-04/05, W07-06/07, W07-10/11
    lot_number: str | None = None  # W07-08 warehouse lot number
    adjustment: str | None = None  # W07-09 warehouse detail adjustment identifier
    description: str | None = None  # G69-01 (several G69 joined with a space)
    references: tuple[Reference, ...] = ()  # N9 inside the line loop
    exceptions: tuple[ReceiptException, ...] = ()  # W13
    unknown_segments: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseReceiptAdvice:
    reporting_code: str  # W17-01: F full detail, C customer return, X exceptions only...
    received_on: dt.date | None  # W17-02
    receipt_number: str  # W17-03 warehouse receipt number
    depositor_order_number: str | None = None  # W17-04 (for a customer return: the RMA)
    shipment_id: str | None = None  # W17-05
    time: str | None = None  # W17-07 (HHMM[SS]), qualified by W17-06
    ship_to: Party | None = None  # N1 ST, else CN
    ship_from: Party | None = None  # N1 SF, else WH (the warehouse)
    other_parties: tuple[Party, ...] = ()
    references: tuple[Reference, ...] = ()  # header N9
    dates: tuple[QualifiedDate, ...] = ()  # G62
    notes: tuple[Note, ...] = ()  # NTE
    lines: tuple[ReceiptLine, ...] = ()
    total_quantity_received: Decimal | None = None  # W14-01
    total_units_shipped: Decimal | None = None  # W14-02
    unknown_segments: tuple[Segment, ...] = ()

    def reference(self, *qualifiers: str) -> str | None:
        return first_reference(self.references, *qualifiers)

    @property
    def is_customer_return(self) -> bool:
        return self.reporting_code == CUSTOMER_RETURN


class _LineBuilder(LineParts):
    def __init__(self, line_number: str | None) -> None:
        super().__init__()
        self.line_number = line_number
        self.w07: Segment | None = None
        self.exceptions: list[ReceiptException] = []

    def read(self, segment: Segment) -> None:
        if segment.id == "W13":
            self.exceptions.append(
                ReceiptException(
                    quantity=read_decimal(segment, 1),
                    unit=segment.get(2),
                    condition=segment.get(3),
                    lot_number=segment.get(4),
                    damage_reason=segment.get(5),
                )
            )
        else:
            super().read(segment)  # G69, N9; anything else is kept on the line

    def build(self, ts: TransactionSet) -> ReceiptLine:
        w07 = self.w07
        if w07 is None:
            raise X12Error(
                ErrorCode.MISSING_SEGMENT,
                f"944 {ts.control_number}: line {self.line_number} (LX) has no W07",
                ts.index,
                "LX",
            )
        quantity = read_decimal(w07, 1)
        if quantity is None:
            raise invalid(w07, 1, "a quantity received (W07-01 is mandatory)")
        return replace(
            ReceiptLine(
                line_number=self.line_number,
                quantity_received=quantity,
                unit=w07.get(2),
                upc_case_code=w07.get(3),
                item_ids=read_item_ids(w07, W07_ITEM_PAIRS),
                lot_number=w07.get(8),
                adjustment=w07.get(9),
                exceptions=tuple(self.exceptions),
            ),
            **self.fields(),
        )


def read_944(ts: TransactionSet) -> WarehouseReceiptAdvice:
    """Read one 944 transaction set; raises X12Error for any other set, a missing W17 (or one
    without its mandatory receipt number), a line without W07 or a value that cannot be read."""
    require_type(ts, "944")
    w17: Segment | None = None
    header = HeaderParts()
    w14: Segment | None = None
    lines: list[_LineBuilder] = []
    line: _LineBuilder | None = None

    for segment in ts.segments:
        sid = segment.id
        if line is None and header.parties.take(segment):
            continue
        if sid == "LX":
            line = _LineBuilder(segment.get(1))
            lines.append(line)
        elif sid == "W07":
            if line is None or line.w07 is not None:
                line = _LineBuilder(None)
                lines.append(line)
            line.w07 = segment
        elif sid == "W14":
            w14, line = w14 or segment, None
        elif line is not None:
            line.read(segment)
        elif sid == "W17" and w17 is None:
            w17 = segment
        else:
            header.read(segment)  # N9, G62, NTE; anything else is kept on the advice

    if w17 is None or not w17.get(3):
        raise X12Error(
            ErrorCode.MISSING_SEGMENT,
            f"944 {ts.control_number} has no W17 with a warehouse receipt number (W17-03)",
            ts.index,
            "ST",
        )
    return WarehouseReceiptAdvice(
        reporting_code=w17.get(1) or "",
        received_on=read_date(w17, 2),
        receipt_number=w17.get(3) or "",
        depositor_order_number=w17.get(4),
        shipment_id=w17.get(5),
        time=w17.get(7),
        lines=tuple(builder.build(ts) for builder in lines),
        total_quantity_received=read_decimal(w14, 1) if w14 else None,
        total_units_shipped=read_decimal(w14, 2) if w14 else None,
        **header.fields(),
    )
