"""940 Warehouse Shipping Order → :class:`WarehouseShippingOrder`.

Read: W05 (header), N1/N2/N3/N4 loops (parties), N9 (references), G62 (dates), NTE (notes),
W66 (carrier), LX + W01 + G69 + N9 (lines), W76 (totals). Everything else is kept, in order, in
``unknown_segments`` of the order (header level) or of the line it appeared in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from integrations.x12.common import (
    Carrier,
    HeaderParts,
    ItemId,
    ItemIdentified,
    LineParts,
    Note,
    Party,
    QualifiedDate,
    Reference,
    first_date,
    first_reference,
    read_decimal,
    read_item_ids,
    require_type,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Segment

W01_ITEM_PAIRS = ((4, 5), (6, 7), (15, 16))


@dataclass(frozen=True, slots=True, kw_only=True)
class ShippingOrderLine(ItemIdentified):
    line_number: str | None = None  # LX-01
    quantity: Decimal | None = None  # W01-01 quantity ordered
    unit: str | None = None  # W01-02 (EA each, CA case, PC piece...)
    upc_case_code: str | None = None  # W01-03
    item_ids: tuple[ItemId, ...] = ()  # W01-04/05, W01-06/07, W01-15/16
    lot_number: str | None = None  # W01-13 warehouse lot number
    description: str | None = None  # G69-01 (several G69 joined with a space)
    references: tuple[Reference, ...] = ()  # N9 inside the line loop
    unknown_segments: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseShippingOrder:
    depositor_order_number: str  # W05-02: the order number the warehouse must echo in its 945
    purchase_order_number: str | None = None  # W05-03
    order_status: str = "N"  # W05-01: N original, F cancel? (partner specific), R reissue...
    master_reference: str | None = None  # W05-05 (link/master reference number)
    ship_to: Party | None = None  # N1 ST, else CN
    ship_from: Party | None = None  # N1 SF, else WH
    other_parties: tuple[Party, ...] = ()  # every other N1 loop (DE depositor, BT bill to...)
    references: tuple[Reference, ...] = ()  # header N9
    dates: tuple[QualifiedDate, ...] = ()  # G62
    notes: tuple[Note, ...] = ()  # NTE
    carrier: Carrier | None = None  # W66
    lines: tuple[ShippingOrderLine, ...] = ()
    total_quantity: Decimal | None = None  # W76-01
    total_weight: Decimal | None = None  # W76-02
    weight_unit: str | None = None  # W76-03
    unknown_segments: tuple[Segment, ...] = ()

    @property
    def requested_ship_date(self) -> dt.date | None:
        return first_date(self.dates, "10")

    @property
    def requested_delivery_date(self) -> dt.date | None:
        return first_date(self.dates, "02")

    def reference(self, *qualifiers: str) -> str | None:
        return first_reference(self.references, *qualifiers)


def _line_from_w01(w01: Segment, line_number: str | None) -> ShippingOrderLine:
    return ShippingOrderLine(
        line_number=line_number,
        quantity=read_decimal(w01, 1),
        unit=w01.get(2),
        upc_case_code=w01.get(3),
        item_ids=read_item_ids(w01, W01_ITEM_PAIRS),
        lot_number=w01.get(13),
    )


class _LineBuilder(LineParts):
    def __init__(self, line_number: str | None) -> None:
        super().__init__()
        self.line = ShippingOrderLine(line_number=line_number)
        self.has_w01 = False

    def build(self) -> ShippingOrderLine:
        return replace(self.line, **self.fields())


def read_940(ts: TransactionSet) -> WarehouseShippingOrder:
    """Read one 940 transaction set; raises X12Error for any other set or a missing W05."""
    require_type(ts, "940")
    w05: Segment | None = None
    header = HeaderParts()
    carrier: Carrier | None = None
    w76: Segment | None = None
    lines: list[_LineBuilder] = []
    line: _LineBuilder | None = None

    for segment in ts.segments:
        sid = segment.id
        if line is None and header.parties.take(segment):
            continue
        if sid == "LX":
            line = _LineBuilder(segment.get(1))
            lines.append(line)
        elif sid == "W01":
            if line is None or line.has_w01:
                line = _LineBuilder(None)
                lines.append(line)
            line.line = _line_from_w01(segment, line.line.line_number)
            line.has_w01 = True
        elif sid == "W76":
            w76, line = w76 or segment, None
        elif line is not None:
            line.read(segment)  # G69, N9; anything else is kept on the line
        elif sid == "W05" and w05 is None:
            w05 = segment
        elif sid == "W66" and carrier is None:
            carrier = Carrier(
                payment_method=segment.get(1),
                transport_method=segment.get(2),
                routing=segment.get(5),
                scac=segment.get(10),
            )
        else:
            header.read(segment)  # N9, G62, NTE; anything else is kept on the order

    if w05 is None or not w05.get(2):
        raise X12Error(
            ErrorCode.MISSING_SEGMENT,
            f"940 {ts.control_number} has no W05 with a depositor order number (W05-02)",
            ts.index,
            "ST",
        )
    return WarehouseShippingOrder(
        depositor_order_number=w05.get(2) or "",
        purchase_order_number=w05.get(3),
        order_status=w05.get(1) or "",
        master_reference=w05.get(5),
        carrier=carrier,
        lines=tuple(builder.build() for builder in lines),
        total_quantity=read_decimal(w76, 1) if w76 else None,
        total_weight=read_decimal(w76, 2) if w76 else None,
        weight_unit=w76.get(3) if w76 else None,
        **header.fields(),
    )
