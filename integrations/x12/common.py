"""Value types and element readers shared by the 940, 945 and 856 readers and the writers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.x12.envelope import TransactionSet
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.tokenizer import Segment

# Qualifiers (data element 235) searched, in order, by the convenience properties.
SKU_QUALIFIERS = ("SK", "VN", "VC", "VP")  # stock keeping unit, vendor's (seller's) numbers
BUYER_ITEM_QUALIFIERS = ("BP", "IN", "CB")  # buyer's part / item / catalog number
UPC_QUALIFIERS = ("UP",)  # UCC-12 consumer package code
GTIN_QUALIFIERS = ("UK", "EN", "UP", "UA")  # GTIN-14, EAN-13, UPC-A...
# N1-01 roles of the warehouse sets (940, 945), each searched in order.
WAREHOUSE_SHIP_TO_ROLES = ("ST", "CN")  # ship to, else consignee
WAREHOUSE_SHIP_FROM_ROLES = ("SF", "WH")  # ship from, else the warehouse


@dataclass(frozen=True, slots=True)
class ItemId:
    qualifier: str  # e.g. VN vendor item, SK SKU, UP UPC, BP buyer part, UK GTIN-14
    value: str


@dataclass(frozen=True, slots=True)
class Reference:
    """N9 (warehouse sets) or REF (856): qualifier, value and optional description."""

    qualifier: str
    value: str | None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class QualifiedDate:
    """G62 (qualifier, date, time qualifier, time) or DTM (qualifier, date, time)."""

    qualifier: str  # G62: 10 requested ship, 02 requested delivery, 11 shipped; DTM: 011 shipped
    date: dt.date | None
    time: str | None = None  # HHMM[SS] as sent
    time_qualifier: str | None = None  # G62-03 only


@dataclass(frozen=True, slots=True)
class Note:
    """NTE: reference code (WHI warehouse instruction, GEN, BOL...) and free text."""

    code: str | None
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """An N1 loop: N1 name/id, N2 extra names, N3 address lines, N4 place."""

    role: str  # N1-01: ST ship to, SF ship from, WH warehouse, DE depositor, BT bill to, CN...
    name: str | None = None  # N1-02
    id_qualifier: str | None = None  # N1-03 (9 DUNS+4, 91/92 assigned by seller/buyer, ZZ...)
    id: str | None = None  # N1-04
    extra_names: tuple[str, ...] = ()  # N2-01, N2-02 of every N2
    address_lines: tuple[str, ...] = ()  # N3-01, N3-02 of every N3, in order
    city: str | None = None  # N4-01
    state: str | None = None  # N4-02
    postal_code: str | None = None  # N4-03
    country: str | None = None  # N4-04


@dataclass(frozen=True, slots=True, kw_only=True)
class Carrier:
    """Carrier and routing: W66 (940), W27 (945) or TD5 (856)."""

    scac: str | None = None  # W66-10, W27-02, TD5-03 when TD5-02 = 2
    routing: str | None = None  # W66-05, W27-03, TD5-05 (free text, often the service name)
    transport_method: str | None = None  # W66-02, W27-01, TD5-04 (M motor, U parcel, A air...)
    payment_method: str | None = None  # W66-01, W27-04 (PP prepaid, CC collect, TP third party)


class ItemIdentified:
    """Helpers for anything with ``item_ids`` (order, advice and ship-notice lines)."""

    __slots__ = ()
    item_ids: tuple[ItemId, ...]

    def item_id(self, *qualifiers: str) -> str | None:
        """The value of the first item id whose qualifier is in ``qualifiers`` (in that order)."""
        for qualifier in qualifiers:
            for item in self.item_ids:
                if item.qualifier == qualifier:
                    return item.value
        return None

    @property
    def sku(self) -> str | None:
        return self.item_id(*SKU_QUALIFIERS)

    @property
    def upc(self) -> str | None:
        return self.item_id(*UPC_QUALIFIERS)

    @property
    def gtin(self) -> str | None:
        return self.item_id(*GTIN_QUALIFIERS)

    @property
    def buyer_item(self) -> str | None:
        return self.item_id(*BUYER_ITEM_QUALIFIERS)


def first_reference(references: Iterable[Reference], *qualifiers: str) -> str | None:
    for qualifier in qualifiers:
        for reference in references:
            if reference.qualifier == qualifier and reference.value:
                return reference.value
    return None


def first_date(dates: Iterable[QualifiedDate], *qualifiers: str) -> dt.date | None:
    for qualifier in qualifiers:
        for value in dates:
            if value.qualifier == qualifier and value.date is not None:
                return value.date
    return None


def first_party(parties: Iterable[Party], *roles: str) -> Party | None:
    for role in roles:
        for party in parties:
            if party.role == role:
                return party
    return None


# -- reading elements -------------------------------------------------------------------------


def require_type(ts: TransactionSet, expected: str) -> None:
    if ts.id != expected:
        raise X12Error(
            ErrorCode.UNSUPPORTED_TRANSACTION_SET,
            f"expected a {expected} transaction set, got {ts.id} (control number "
            f"{ts.control_number}); typed readers exist for 940, 944, 945 and 856",
            ts.index,
            "ST",
        )


def invalid(segment: Segment, position: int, what: str) -> X12Error:
    return X12Error(
        ErrorCode.INVALID_VALUE,
        f"{segment.id}{position:02d} {segment.raw(position)!r} is not {what}",
        segment.index,
        segment.id,
    )


def read_date(segment: Segment, position: int) -> dt.date | None:
    """CCYYMMDD, or YYMMDD as in versions before 004010 (years 00-49 → 20xx)."""
    value = segment.get(position)
    if value is None:
        return None
    if not value.isdigit() or len(value) not in (6, 8):
        raise invalid(segment, position, "a date (CCYYMMDD)")
    if len(value) == 6:
        year = int(value[:2])
        value = f"{2000 + year if year < 50 else 1900 + year}{value[2:]}"
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise invalid(segment, position, "a calendar date") from None


def read_decimal(segment: Segment, position: int) -> Decimal | None:
    value = segment.get(position)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise invalid(segment, position, "a number") from None
    if not number.is_finite():
        raise invalid(segment, position, "a finite number")
    return number


def read_item_ids(segment: Segment, pairs: Sequence[tuple[int, int]]) -> tuple[ItemId, ...]:
    """(qualifier, value) element pairs → ItemIds, skipping pairs with either half empty."""
    found = []
    for qualifier_at, value_at in pairs:
        qualifier, value = segment.get(qualifier_at), segment.get(value_at)
        if qualifier and value:
            found.append(ItemId(qualifier, value))
    return tuple(found)


def read_reference(segment: Segment) -> Reference:
    return Reference(segment.get(1) or "", segment.get(2), segment.get(3))


def read_g62(segment: Segment) -> QualifiedDate:
    return QualifiedDate(
        segment.get(1) or "", read_date(segment, 2), segment.get(4), segment.get(3)
    )


def read_dtm(segment: Segment) -> QualifiedDate:
    return QualifiedDate(segment.get(1) or "", read_date(segment, 2), segment.get(3))


def read_note(segment: Segment) -> Note:
    return Note(segment.get(1), segment.get(2) or "")


class PartyLoop:
    """Accumulates N1 loops: feed it N1, N2, N3, N4; ``take`` says whether it used a segment."""

    def __init__(self) -> None:
        self.parties: list[Party] = []
        self.open = False

    def take(self, segment: Segment) -> bool:
        sid = segment.id
        if sid == "N1":
            self.parties.append(
                Party(
                    role=segment.get(1) or "",
                    name=segment.get(2),
                    id_qualifier=segment.get(3),
                    id=segment.get(4),
                )
            )
            self.open = True
            return True
        if not self.open or sid not in ("N2", "N3", "N4"):
            # contacts (PER, G61) sit inside the loop without ending it; anything else ends it
            self.open = self.open and sid in ("PER", "G61")
            return False
        party = self.parties[-1]
        values = tuple(v for v in (segment.get(1), segment.get(2)) if v)
        if sid == "N2":
            party = replace(party, extra_names=party.extra_names + values)
        elif sid == "N3":
            party = replace(party, address_lines=party.address_lines + values)
        else:
            party = replace(
                party,
                city=segment.get(1),
                state=segment.get(2),
                postal_code=segment.get(3),
                country=segment.get(4),
            )
        self.parties[-1] = party
        return True

    def close(self) -> None:
        self.open = False


def split_parties(
    parties: Sequence[Party], ship_to_roles: Sequence[str], ship_from_roles: Sequence[str]
) -> tuple[Party | None, Party | None, tuple[Party, ...]]:
    """(ship to, ship from, the others), each chosen by the first role found in order."""
    ship_to = first_party(parties, *ship_to_roles)
    ship_from = first_party(parties, *ship_from_roles)
    others = tuple(p for p in parties if p is not ship_to and p is not ship_from)
    return ship_to, ship_from, others


# -- the loops of the warehouse sets (940, 945) ---------------------------------------------------


class HeaderParts:
    """What a 940 or 945 header holds besides its own segments (W05/W66, W06/W27): N1 loops,
    N9 references, G62 dates, NTE notes, and every header segment not read, in order."""

    def __init__(self) -> None:
        self.parties = PartyLoop()
        self.references: list[Reference] = []
        self.dates: list[QualifiedDate] = []
        self.notes: list[Note] = []
        self.unknown: list[Segment] = []

    def read(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "N9":
            self.references.append(read_reference(segment))
        elif sid == "G62":
            self.dates.append(read_g62(segment))
        elif sid == "NTE":
            self.notes.append(read_note(segment))
        else:
            self.unknown.append(segment)

    def fields(self) -> dict[str, Any]:
        """The fields both WarehouseShippingOrder and WarehouseShippingAdvice have."""
        ship_to, ship_from, others = split_parties(
            self.parties.parties, WAREHOUSE_SHIP_TO_ROLES, WAREHOUSE_SHIP_FROM_ROLES
        )
        return {
            "ship_to": ship_to,
            "ship_from": ship_from,
            "other_parties": others,
            "references": tuple(self.references),
            "dates": tuple(self.dates),
            "notes": tuple(self.notes),
            "unknown_segments": tuple(self.unknown),
        }


class LineParts:
    """What a 940 or 945 line loop holds after its W01/W12: G69 descriptions, N9 references,
    and every segment of the loop not read, in order."""

    def __init__(self, references: Iterable[Reference] = ()) -> None:
        self.descriptions: list[str] = []
        self.references: list[Reference] = list(references)
        self.unknown: list[Segment] = []

    def read(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "G69":
            if text := segment.get(1):
                self.descriptions.append(text)
        elif sid == "N9":
            self.references.append(read_reference(segment))
        else:
            self.unknown.append(segment)

    def fields(self) -> dict[str, Any]:
        """The fields both ShippingOrderLine and ShipmentAdviceLine have."""
        return {
            "description": " ".join(self.descriptions) or None,
            "references": tuple(self.references),
            "unknown_segments": tuple(self.unknown),
        }
