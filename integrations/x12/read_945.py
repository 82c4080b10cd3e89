"""945 Warehouse Shipping Advice → :class:`WarehouseShippingAdvice`.

Read: W06 (header), N1/N2/N3/N4 loops (parties), N9 (references), G62 (dates), NTE (notes),
W27 (carrier), LX loops with MAN (packages), W12 (one line each) + G69 + N9, W03 (totals).
N9/MAN written in an LX loop before its W12 belong to every W12 of that LX (the LX is the
package or pallet; its W12s are what is in it). Everything else is kept, in order, in
``unknown_segments`` of the advice or of the line it appeared in.
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
    read_date,
    read_decimal,
    read_item_ids,
    read_reference,
    require_type,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Segment

# N9 qualifiers that carry a carrier tracking number: 2I tracking number, CN carrier's reference
# (PRO / waybill), 08 carrier-assigned package id. MAN qualifier CP: carrier-assigned package id.
TRACKING_REFERENCE_QUALIFIERS = ("2I", "CN", "08")
TRACKING_PACKAGE_QUALIFIERS = ("CP",)
LICENSE_PLATE_QUALIFIERS = ("LV",)  # N9 LV: license plate (warehouse pallet/carton label)


@dataclass(frozen=True, slots=True)
class Package:
    """MAN: marks and numbers of a package (GM SSCC-18, CP carrier package id/tracking...)."""

    qualifier: str
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentAdviceLine(ItemIdentified):
    line_number: str | None = None  # LX-01
    status: str | None = None  # W12-01 shipment/order status (CC complete, CP partial...)
    quantity_ordered: Decimal | None = None  # W12-02
    quantity_shipped: Decimal | None = None  # W12-03
    quantity_difference: Decimal | None = None  # W12-04
    unit: str | None = None  # W12-05
    upc_case_code: str | None = None  # W12-06
    item_ids: tuple[ItemId, ...] = ()  # W12-07/08
    lot_number: str | None = None  # W12-09
    substituted_item: ItemId | None = None  # W12-17/18: the item ordered when W12-01 = IS
    description: str | None = None  # G69-01 (several G69 joined with a space)
    references: tuple[Reference, ...] = ()  # N9 of the LX loop and of the W12 loop
    packages: tuple[Package, ...] = ()  # MAN of the LX loop
    unknown_segments: tuple[Segment, ...] = ()

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        found = [r.value for r in self.references if r.qualifier in TRACKING_REFERENCE_QUALIFIERS]
        found += [p.id for p in self.packages if p.qualifier in TRACKING_PACKAGE_QUALIFIERS]
        return tuple(dict.fromkeys(v for v in found if v))

    @property
    def package_ids(self) -> tuple[str, ...]:
        found = [p.id for p in self.packages]
        found += [r.value for r in self.references if r.qualifier in LICENSE_PLATE_QUALIFIERS]
        return tuple(dict.fromkeys(v for v in found if v))


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseShippingAdvice:
    depositor_order_number: str | None = None  # W06-02: the 940's W05-02
    reporting_code: str = "F"  # W06-01: F final, P partial, ...
    ship_date: dt.date | None = None  # W06-03, else G62 qualifier 11 (shipped on)
    shipment_id: str | None = None  # W06-04
    purchase_order_number: str | None = None  # W06-06
    ship_to: Party | None = None  # N1 ST, else CN
    ship_from: Party | None = None  # N1 SF, else WH
    other_parties: tuple[Party, ...] = ()
    references: tuple[Reference, ...] = ()  # header N9
    dates: tuple[QualifiedDate, ...] = ()  # G62
    notes: tuple[Note, ...] = ()  # NTE
    carrier: Carrier | None = None  # W27
    lines: tuple[ShipmentAdviceLine, ...] = ()
    total_units_shipped: Decimal | None = None  # W03-01
    total_weight: Decimal | None = None  # W03-02
    weight_unit: str | None = None  # W03-03
    unknown_segments: tuple[Segment, ...] = ()

    def reference(self, *qualifiers: str) -> str | None:
        return first_reference(self.references, *qualifiers)

    @property
    def bill_of_lading(self) -> str | None:
        """N9 BM (bill of lading number) at header level."""
        return self.reference("BM")

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        found = [r.value for r in self.references if r.qualifier in TRACKING_REFERENCE_QUALIFIERS]
        found += [number for line in self.lines for number in line.tracking_numbers]
        return tuple(dict.fromkeys(v for v in found if v))


class _PackLoop:
    """One LX loop: its number, the N9/MAN before its first W12, and its W12 lines."""

    def __init__(self, number: str | None) -> None:
        self.number = number
        self.references: list[Reference] = []
        self.packages: list[Package] = []


class _LineBuilder(LineParts):
    def __init__(self, w12: Segment, pack: _PackLoop | None) -> None:
        super().__init__(pack.references if pack else ())
        substituted = read_item_ids(w12, ((17, 18),))
        self.line = ShipmentAdviceLine(
            line_number=pack.number if pack else None,
            status=w12.get(1),
            quantity_ordered=read_decimal(w12, 2),
            quantity_shipped=read_decimal(w12, 3),
            quantity_difference=read_decimal(w12, 4),
            unit=w12.get(5),
            upc_case_code=w12.get(6),
            item_ids=read_item_ids(w12, ((7, 8),)),
            lot_number=w12.get(9),
            substituted_item=substituted[0] if substituted else None,
        )
        self.packages = list(pack.packages) if pack else []

    def read(self, segment: Segment) -> None:
        if segment.id == "MAN" and segment.get(1) and segment.get(2):
            self.packages.append(Package(segment.get(1) or "", segment.get(2) or ""))
        else:
            super().read(segment)  # G69, N9; anything else is kept on the line

    def build(self) -> ShipmentAdviceLine:
        return replace(self.line, packages=tuple(self.packages), **self.fields())


def read_945(ts: TransactionSet) -> WarehouseShippingAdvice:
    """Read one 945 transaction set; raises X12Error for any other set or a missing W06."""
    require_type(ts, "945")
    w06: Segment | None = None
    header = HeaderParts()
    carrier: Carrier | None = None
    w03: Segment | None = None
    lines: list[_LineBuilder] = []
    pack: _PackLoop | None = None
    line: _LineBuilder | None = None

    for segment in ts.segments:
        sid = segment.id
        if pack is None and header.parties.take(segment):
            continue
        if sid == "LX":
            pack, line = _PackLoop(segment.get(1)), None
        elif sid == "W12":
            line = _LineBuilder(segment, pack)
            lines.append(line)
        elif sid == "W03":
            w03, pack, line = w03 or segment, None, None
        elif line is not None:
            line.read(segment)
        elif pack is not None and sid in ("N9", "MAN"):
            if sid == "N9":
                pack.references.append(read_reference(segment))
            elif segment.get(1) and segment.get(2):
                pack.packages.append(Package(segment.get(1) or "", segment.get(2) or ""))
        elif sid == "W06" and w06 is None:
            w06 = segment
        elif sid == "W27" and carrier is None:
            carrier = Carrier(
                transport_method=segment.get(1),
                scac=segment.get(2),
                routing=segment.get(3),
                payment_method=segment.get(4),
            )
        elif pack is None:
            header.read(segment)  # N9, G62, NTE; anything else is kept on the advice
        else:
            header.unknown.append(segment)

    if w06 is None:
        raise X12Error(
            ErrorCode.MISSING_SEGMENT,
            f"945 {ts.control_number} has no W06 (warehouse shipment identification)",
            ts.index,
            "ST",
        )
    return WarehouseShippingAdvice(
        depositor_order_number=w06.get(2),
        reporting_code=w06.get(1) or "",
        ship_date=read_date(w06, 3) or first_date(header.dates, "11"),
        shipment_id=w06.get(4),
        purchase_order_number=w06.get(6),
        carrier=carrier,
        lines=tuple(builder.build() for builder in lines),
        total_units_shipped=read_decimal(w03, 1) if w03 else None,
        total_weight=read_decimal(w03, 2) if w03 else None,
        weight_unit=w03.get(3) if w03 else None,
        **header.fields(),
    )
