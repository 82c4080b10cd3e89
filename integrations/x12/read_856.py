"""856 Ship Notice/Manifest → :class:`ShipNotice`, the HL tree reduced to shipment → orders → items.

Read: BSN (header); at shipment level (HL S, or before the first HL) DTM, TD5 (carrier), REF,
N1 loops; at order level (HL O) PRF, REF, N1 loops; at pack level (HL P or T) MAN; at item level
(HL I) LIN, SN1, PID, PRF, MAN. Tracking numbers are every REF CN and MAN CP, at any level.

The tree is followed through HL02 (parent id). Some senders leave HL02 empty: an item then
belongs to the latest order and the latest pack seen before it. Shipments without an order level
(S → I, with PRF on each item) are grouped into orders by the items' PRF-01. Everything not
read is kept, in order, in ``ShipNotice.unknown_segments``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from integrations.x12.common import (
    Carrier,
    ItemId,
    ItemIdentified,
    Party,
    PartyLoop,
    QualifiedDate,
    Reference,
    first_date,
    first_reference,
    read_date,
    read_decimal,
    read_dtm,
    read_item_ids,
    read_reference,
    require_type,
    split_parties,
)
from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Segment

SHIP_TO_ROLES = ("ST",)
SHIP_FROM_ROLES = ("SF", "SH")
LIN_ITEM_PAIRS = tuple((n, n + 1) for n in range(2, 31, 2))
ORDER_LEVELS = ("O",)
PACK_LEVELS = ("P", "T")  # pack, tare (pallet)
ITEM_LEVELS = ("I",)
TRACKING_QUALIFIERS = (("REF", "CN"), ("MAN", "CP"))  # carrier's reference, carrier package id


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipNoticeItem(ItemIdentified):
    line_number: str | None = None  # LIN-01
    item_ids: tuple[ItemId, ...] = ()  # LIN-02/03, LIN-04/05, ...
    quantity_shipped: Decimal | None = None  # SN1-02
    unit: str | None = None  # SN1-03
    quantity_ordered: Decimal | None = None  # SN1-05
    description: str | None = None  # PID-05
    package_ids: tuple[str, ...] = ()  # MAN of the enclosing pack/tare and of the item


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipNoticeOrder:
    purchase_order_number: str | None = None  # PRF-01
    purchase_order_date: dt.date | None = None  # PRF-04
    references: tuple[Reference, ...] = ()  # REF at order level (IV invoice, DP department...)
    parties: tuple[Party, ...] = ()  # N1 at order level (BY mark-for store...)
    items: tuple[ShipNoticeItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipNotice:
    shipment_id: str | None = None  # BSN-02
    purpose: str | None = None  # BSN-01 (00 original, 14 advance notification...)
    document_date: dt.date | None = None  # BSN-03
    dates: tuple[QualifiedDate, ...] = ()  # DTM at shipment level (011 shipped, 017 delivery)
    carrier: Carrier | None = None  # TD5 at shipment level
    tracking_numbers: tuple[str, ...] = ()  # every REF CN and MAN CP
    references: tuple[Reference, ...] = ()  # REF at shipment level (BM bill of lading...)
    ship_to: Party | None = None
    ship_from: Party | None = None  # N1 SF, else SH
    other_parties: tuple[Party, ...] = ()
    orders: tuple[ShipNoticeOrder, ...] = ()
    unknown_segments: tuple[Segment, ...] = ()

    @property
    def ship_date(self) -> dt.date | None:
        return first_date(self.dates, "011")

    def reference(self, *qualifiers: str) -> str | None:
        return first_reference(self.references, *qualifiers)

    @property
    def bill_of_lading(self) -> str | None:
        return self.reference("BM")


@dataclass(eq=False)
class _Item:
    lin: Segment | None = None
    sn1: Segment | None = None
    description: str | None = None
    prf: Segment | None = None
    package_ids: list[str] = field(default_factory=list)
    pack: _Pack | None = None

    def build(self) -> ShipNoticeItem:
        lin, sn1 = self.lin, self.sn1
        packs = self.pack.package_ids if self.pack else []
        return ShipNoticeItem(
            line_number=lin.get(1) if lin else None,
            item_ids=read_item_ids(lin, LIN_ITEM_PAIRS) if lin else (),
            quantity_shipped=read_decimal(sn1, 2) if sn1 else None,
            unit=sn1.get(3) if sn1 else None,
            quantity_ordered=read_decimal(sn1, 5) if sn1 else None,
            description=self.description,
            package_ids=tuple(dict.fromkeys(packs + self.package_ids)),
        )


@dataclass(eq=False)
class _Pack:
    package_ids: list[str] = field(default_factory=list)


@dataclass(eq=False)
class _Order:
    prf: Segment | None = None
    references: list[Reference] = field(default_factory=list)
    parties: PartyLoop = field(default_factory=PartyLoop)
    items: list[_Item] = field(default_factory=list)

    def build(self) -> ShipNoticeOrder:
        prf = self.prf
        return ShipNoticeOrder(
            purchase_order_number=prf.get(1) if prf else None,
            purchase_order_date=read_date(prf, 4) if prf else None,
            references=tuple(self.references),
            parties=tuple(self.parties.parties),
            items=tuple(item.build() for item in self.items),
        )


@dataclass(eq=False)
class _Node:
    level: str
    parent: str | None
    order: _Order | None = None
    pack: _Pack | None = None
    item: _Item | None = None


class _Reader:
    def __init__(self) -> None:
        self.bsn: Segment | None = None
        self.parties = PartyLoop()
        self.dates: list[QualifiedDate] = []
        self.references: list[Reference] = []
        self.carrier: Carrier | None = None
        self.tracking: list[str] = []
        self.unknown: list[Segment] = []
        self.nodes: dict[str, _Node] = {}
        self.node: _Node | None = None  # None = shipment header, before the first HL
        self.orders: list[_Order] = []
        self.orphans: list[_Item] = []  # items with no order level above them
        self.latest_order: _Order | None = None
        self.latest_pack: _Pack | None = None

    def feed(self, segment: Segment) -> None:
        if segment.id == "BSN" and self.bsn is None:
            self.bsn = segment
        elif segment.id == "HL":
            self.parties.close()
            self.open_level(segment)
        else:
            if (segment.id, segment.get(1)) in TRACKING_QUALIFIERS and segment.get(2):
                self.tracking.append(segment.get(2) or "")
            self.level_segment(segment)

    def open_level(self, hl: Segment) -> None:
        level = hl.get(3) or ""
        node = _Node(level, hl.get(2))
        if level in ORDER_LEVELS:
            node.order = self.latest_order = _Order()
            self.latest_pack = None
            self.orders.append(node.order)
        elif level in PACK_LEVELS:
            node.pack = self.latest_pack = _Pack()
        elif level in ITEM_LEVELS:
            node.item = _Item()
            order, node.item.pack = self.ancestors(node.parent)
            (order.items if order else self.orphans).append(node.item)
        if hl_id := hl.get(1):
            self.nodes[hl_id] = node
        self.node = node

    def ancestors(self, parent: str | None) -> tuple[_Order | None, _Pack | None]:
        """The order and pack above an item: by HL02, else the latest ones seen."""
        if parent is None or parent not in self.nodes:
            return self.latest_order, self.latest_pack
        order: _Order | None = None
        pack: _Pack | None = None
        seen: set[str] = set()
        current: str | None = parent
        while current is not None and current in self.nodes and current not in seen:
            seen.add(current)
            node = self.nodes[current]
            order = order or node.order
            pack = pack or node.pack
            current = node.parent
        return order, pack

    def level_segment(self, segment: Segment) -> None:
        node = self.node
        if node is None or node.level == "S":
            self.shipment_segment(segment)
        elif node.order is not None:
            self.order_segment(node.order, segment)
        elif node.pack is not None and segment.id == "MAN" and segment.get(2):
            node.pack.package_ids.append(segment.get(2) or "")
        elif node.item is not None:
            self.item_segment(node.item, segment)
        else:
            self.unknown.append(segment)

    def shipment_segment(self, segment: Segment) -> None:
        sid = segment.id
        if self.parties.take(segment):
            return
        if sid == "DTM":
            self.dates.append(read_dtm(segment))
        elif sid == "REF":
            self.references.append(read_reference(segment))
        elif sid == "TD5" and self.carrier is None and any(segment.elements):
            self.carrier = Carrier(
                scac=segment.get(3) if segment.get(2) == "2" else None,
                transport_method=segment.get(4),
                routing=segment.get(5),
            )
        else:
            self.unknown.append(segment)

    def order_segment(self, order: _Order, segment: Segment) -> None:
        if order.parties.take(segment):
            return
        if segment.id == "PRF" and order.prf is None:
            order.prf = segment
        elif segment.id == "REF":
            order.references.append(read_reference(segment))
        else:
            self.unknown.append(segment)

    def item_segment(self, item: _Item, segment: Segment) -> None:
        sid = segment.id
        if sid == "LIN" and item.lin is None:
            item.lin = segment
        elif sid == "SN1" and item.sn1 is None:
            item.sn1 = segment
        elif sid == "PID" and item.description is None and segment.get(5):
            item.description = segment.get(5)
        elif sid == "PRF" and item.prf is None:
            item.prf = segment
        elif sid == "MAN" and segment.get(2):
            item.package_ids.append(segment.get(2) or "")
        else:
            self.unknown.append(segment)

    def orphan_orders(self) -> list[ShipNoticeOrder]:
        """Items without an order level, grouped by their own PRF-01 (first seen first)."""
        groups: dict[str | None, list[_Item]] = {}
        for item in self.orphans:
            groups.setdefault(item.prf.get(1) if item.prf else None, []).append(item)
        return [_Order(prf=items[0].prf, items=items).build() for items in groups.values() if items]


def read_856(ts: TransactionSet) -> ShipNotice:
    """Read one 856 transaction set; raises X12Error for any other set or a missing BSN."""
    require_type(ts, "856")
    reader = _Reader()
    for segment in ts.segments:
        reader.feed(segment)
    bsn = reader.bsn
    if bsn is None:
        raise X12Error(
            ErrorCode.MISSING_SEGMENT,
            f"856 {ts.control_number} has no BSN (beginning segment for ship notice)",
            ts.index,
            "ST",
        )
    ship_to, ship_from, others = split_parties(
        reader.parties.parties, SHIP_TO_ROLES, SHIP_FROM_ROLES
    )
    return ShipNotice(
        shipment_id=bsn.get(2),
        purpose=bsn.get(1),
        document_date=read_date(bsn, 3),
        dates=tuple(reader.dates),
        carrier=reader.carrier,
        tracking_numbers=tuple(dict.fromkeys(reader.tracking)),
        references=tuple(reader.references),
        ship_to=ship_to,
        ship_from=ship_from,
        other_parties=others,
        orders=tuple([order.build() for order in reader.orders] + reader.orphan_orders()),
        unknown_segments=tuple(reader.unknown),
    )
