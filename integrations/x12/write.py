"""Writers: 940 Warehouse Shipping Order (OMS → warehouse) and 945 Warehouse Shipping Advice
(warehouse → OMS, used by the simulated WMS), each a complete ISA/GS/ST..SE/GE/IEA interchange.

Version 004010 by default (what warehouses overwhelmingly run; every 940/945 in the corpus but
one is 004010); ``version="005010"`` changes only the envelope (ISA11 repetition separator "^",
ISA12 00501, GS08 005010): the segments written mean the same in both versions. Delimiters are
``*`` (element), ``>`` (component), ``~`` (segment) followed by a line break; a value containing
one of them, or a line break, is refused (X12 has no escaping).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Sequence
from decimal import Decimal

from integrations.x12.common import Note, Party, QualifiedDate, Reference
from integrations.x12.errors import ErrorCode, X12Error
from integrations.x12.read_940 import WarehouseShippingOrder
from integrations.x12.read_945 import WarehouseShippingAdvice
from integrations.x12.tokenizer import Delimiters

VERSIONS = {"004010": ("00401", "U"), "005010": ("00501", "^")}
DEFAULT_DELIMITERS = Delimiters(element="*", component=">", segment="~", repetition="^")
G69_MAX = 45  # G69-01 is AN 1/45: longer descriptions are split over several G69

Value = str | Decimal | int | dt.date | None
Row = list[Value]


def _refuse(segment_id: str, message: str) -> X12Error:
    return X12Error(ErrorCode.INVALID_VALUE, message, None, segment_id)


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    return str(value)


class _Writer:
    def __init__(self, delimiters: Delimiters, *, line_breaks: bool) -> None:
        special = {delimiters.element, delimiters.component, delimiters.segment}
        if delimiters.repetition:
            special.add(delimiters.repetition)
        if len(special) != 3 + bool(delimiters.repetition):
            raise ValueError(f"delimiters must be distinct: {delimiters}")
        self.delimiters = delimiters
        self.forbidden = special | {"\r", "\n"}
        self.end = delimiters.segment + ("\n" if line_breaks else "")
        self.lines: list[str] = []

    def segment(self, row: Row) -> None:
        segment_id = str(row[0])
        texts = [segment_id]
        for position, value in enumerate(row[1:], start=1):
            try:
                text = _text(value)
            except ValueError as error:
                raise _refuse(segment_id, f"{segment_id}{position:02d}: {error}") from None
            bad = next((char for char in text if char in self.forbidden), None)
            if bad is not None:
                raise _refuse(
                    segment_id, f"{segment_id}{position:02d} {text!r} contains {bad!r}, a delimiter"
                )
            texts.append(text)
        while len(texts) > 1 and texts[-1] == "":
            texts.pop()
        self.lines.append(self.delimiters.element.join(texts) + self.end)

    def raw(self, texts: list[str]) -> None:
        self.lines.append(self.delimiters.element.join(texts) + self.end)

    def text(self) -> str:
        return "".join(self.lines)


def _isa_id(kind: str, value: str) -> str:
    if not value or len(value) > 15 or value != value.strip():
        raise _refuse("ISA", f"{kind} {value!r} must be 1-15 characters without edge blanks")
    return value.ljust(15)


def _isa(
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str,
    receiver_qualifier: str,
    version: str,
    usage: str,
    delimiters: Delimiters,
) -> list[str]:
    """The ISA header's elements (written as they are: ISA11 and ISA16 are delimiters)."""
    if version not in VERSIONS:
        raise _refuse("GS", f"version {version!r} is not one of {sorted(VERSIONS)}")
    if not 1 <= control_number <= 999_999_999:
        raise _refuse("ISA", f"control number {control_number} is not within 1..999999999")
    if usage not in ("P", "T"):
        raise _refuse("ISA", f"usage {usage!r} must be P (production) or T (test)")
    for kind, qualifier in (("sender", sender_qualifier), ("receiver", receiver_qualifier)):
        if len(qualifier) != 2:
            raise _refuse("ISA", f"{kind} qualifier {qualifier!r} must be 2 characters")
    isa_version, repetition = VERSIONS[version]
    if version == "005010":
        repetition = delimiters.repetition or "^"
    return [
        "ISA", "00", " " * 10, "00", " " * 10,
        sender_qualifier, _isa_id("sender id", sender_id),
        receiver_qualifier, _isa_id("receiver id", receiver_id),
        now.strftime("%y%m%d"), now.strftime("%H%M"), repetition, isa_version,
        f"{control_number:09d}", "0", usage, delimiters.component,
    ]  # fmt: skip


def _interchange(
    bodies: Sequence[list[Row]],
    *,
    functional_id: str,
    set_id: str,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str,
    receiver_qualifier: str,
    version: str,
    usage: str,
    delimiters: Delimiters,
    line_breaks: bool,
) -> str:
    if not bodies:
        raise _refuse("ST", "nothing to write: no documents given")
    writer = _Writer(delimiters, line_breaks=line_breaks)
    writer.raw(
        _isa(
            sender_id=sender_id,
            receiver_id=receiver_id,
            control_number=control_number,
            now=now,
            sender_qualifier=sender_qualifier,
            receiver_qualifier=receiver_qualifier,
            version=version,
            usage=usage,
            delimiters=delimiters,
        )
    )
    writer.segment(
        [
            "GS", functional_id, sender_id, receiver_id, now.strftime("%Y%m%d"),
            now.strftime("%H%M"), str(control_number), "X", version,
        ]
    )  # fmt: skip
    for number, body in enumerate(bodies, start=1):
        st_control = f"{number:04d}"
        writer.segment(["ST", set_id, st_control])
        for row in body:
            writer.segment(row)
        writer.segment(["SE", len(body) + 2, st_control])
    writer.segment(["GE", len(bodies), str(control_number)])
    writer.segment(["IEA", 1, f"{control_number:09d}"])
    return writer.text()


# -- shared segment groups ----------------------------------------------------------------------


def _pairs(values: Sequence[str]) -> list[tuple[str, str | None]]:
    padded = [*values, None] if len(values) % 2 else list(values)
    return [(padded[i] or "", padded[i + 1]) for i in range(0, len(padded), 2)]


def _party(party: Party) -> list[Row]:
    if not party.role:
        raise _refuse("N1", "N1-01 (party role) is mandatory")
    rows: list[Row] = [["N1", party.role, party.name, party.id_qualifier, party.id]]
    rows += [["N2", first, second] for first, second in _pairs(party.extra_names)]
    rows += [["N3", first, second] for first, second in _pairs(party.address_lines)]
    if party.city or party.state or party.postal_code or party.country:
        rows.append(["N4", party.city, party.state, party.postal_code, party.country])
    return rows


def _parties(*parties: Party | None, others: Iterable[Party] = ()) -> list[Row]:
    return [row for party in (*parties, *others) if party is not None for row in _party(party)]


def _references(references: Iterable[Reference]) -> list[Row]:
    return [["N9", r.qualifier, r.value, r.description] for r in references]


def _dates(dates: Iterable[QualifiedDate]) -> list[Row]:
    rows: list[Row] = []
    for value in dates:
        if value.date is None:
            raise _refuse("G62", f"G62 {value.qualifier} has no date")
        if value.time and not value.time_qualifier:
            raise _refuse("G62", f"G62 {value.qualifier} has a time but no time qualifier")
        rows.append(["G62", value.qualifier, value.date, value.time_qualifier, value.time])
    return rows


def _notes(notes: Iterable[Note]) -> list[Row]:
    return [["NTE", note.code, note.text] for note in notes]


def _descriptions(description: str | None) -> list[Row]:
    if not description:
        return []
    return [["G69", chunk] for chunk in textwrap.wrap(description, G69_MAX)]


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((value or Decimal(0) for value in values), Decimal(0))


# -- 940 ----------------------------------------------------------------------------------------


def _body_940(order: WarehouseShippingOrder) -> list[Row]:
    if not order.depositor_order_number or not order.order_status:
        raise _refuse("W05", "W05-01 (order status) and W05-02 (depositor order) are mandatory")
    rows: list[Row] = [
        ["W05", order.order_status, order.depositor_order_number,
         order.purchase_order_number, None, order.master_reference],
    ]  # fmt: skip
    rows += _parties(order.ship_to, order.ship_from, others=order.other_parties)
    rows += _references(order.references)
    rows += _dates(order.dates)
    rows += _notes(order.notes)
    if (carrier := order.carrier) is not None:
        if not carrier.payment_method or not carrier.transport_method:
            raise _refuse("W66", "W66-01 (payment) and W66-02 (transport method) are mandatory")
        rows.append(
            ["W66", carrier.payment_method, carrier.transport_method, None, None,
             carrier.routing, None, None, None, None, carrier.scac]
        )  # fmt: skip
    for number, line in enumerate(order.lines, start=1):
        if line.quantity is None or not line.unit:
            raise _refuse("W01", f"line {number}: W01-01 quantity and W01-02 unit are mandatory")
        if not line.upc_case_code and not line.item_ids:
            raise _refuse("W01", f"line {number}: a UPC case code or an item id is mandatory")
        if len(line.item_ids) > 3:
            raise _refuse("W01", f"line {number}: W01 carries at most 3 item ids")
        ids = [(i.qualifier, i.value) for i in line.item_ids] + [(None, None)] * 3
        rows.append(["LX", line.line_number or str(number)])
        rows.append(
            ["W01", line.quantity, line.unit, line.upc_case_code, *ids[0], *ids[1],
             None, None, None, None, None, line.lot_number, None, *ids[2]]
        )  # fmt: skip
        rows += _descriptions(line.description)
        rows += _references(line.references)
    total = order.total_quantity
    if total is None:
        total = _sum(line.quantity for line in order.lines)
    rows.append(["W76", total, order.total_weight, order.weight_unit])
    return rows


def write_940(
    orders: WarehouseShippingOrder | Sequence[WarehouseShippingOrder],
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
    """One interchange, one group (GS01 OW), one 940 per order (ST02 0001, 0002...).

    ``control_number`` is ISA13 (zero-padded to 9) and GS06; ``now`` gives the ISA/GS date and
    time as given (pass an aware local or UTC datetime, as agreed with the partner).
    """
    batch = [orders] if isinstance(orders, WarehouseShippingOrder) else list(orders)
    return _interchange(
        [_body_940(order) for order in batch],
        functional_id="OW",
        set_id="940",
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


# -- 945 ----------------------------------------------------------------------------------------


def _body_945(advice: WarehouseShippingAdvice) -> list[Row]:
    if not advice.reporting_code:
        raise _refuse("W06", "W06-01 (reporting code) is mandatory")
    rows: list[Row] = [
        ["W06", advice.reporting_code, advice.depositor_order_number, advice.ship_date,
         advice.shipment_id, None, advice.purchase_order_number],
    ]  # fmt: skip
    rows += _parties(advice.ship_to, advice.ship_from, others=advice.other_parties)
    rows += _references(advice.references)
    rows += _dates(advice.dates)
    rows += _notes(advice.notes)
    if (carrier := advice.carrier) is not None:
        if not carrier.transport_method or not (carrier.scac or carrier.routing):
            raise _refuse("W27", "W27-01 (transport method) and a SCAC or routing are mandatory")
        rows.append(
            ["W27", carrier.transport_method, carrier.scac, carrier.routing,
             carrier.payment_method]
        )  # fmt: skip
    for number, line in enumerate(advice.lines, start=1):
        if not line.status:
            raise _refuse("W12", f"line {number}: W12-01 (shipment/order status) is mandatory")
        if not line.upc_case_code and not line.item_ids:
            raise _refuse("W12", f"line {number}: a UPC case code or an item id is mandatory")
        if len(line.item_ids) > 1:
            raise _refuse("W12", f"line {number}: W12 carries one item id (W12-07/08)")
        item = line.item_ids[0] if line.item_ids else None
        substituted = line.substituted_item
        rows.append(["LX", line.line_number or str(number)])
        rows += [["MAN", package.qualifier, package.id] for package in line.packages]
        rows.append(
            ["W12", line.status, line.quantity_ordered, line.quantity_shipped,
             line.quantity_difference, line.unit, line.upc_case_code,
             item.qualifier if item else None, item.value if item else None, line.lot_number,
             None, None, None, None, None, None, None,
             substituted.qualifier if substituted else None,
             substituted.value if substituted else None]
        )  # fmt: skip
        rows += _descriptions(line.description)
        rows += _references(line.references)
    total = advice.total_units_shipped
    if total is None:
        total = _sum(line.quantity_shipped for line in advice.lines)
    rows.append(["W03", total, advice.total_weight, advice.weight_unit])
    return rows


def write_945(
    advices: WarehouseShippingAdvice | Sequence[WarehouseShippingAdvice],
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
    """One interchange, one group (GS01 SW), one 945 per advice; see :func:`write_940`."""
    batch = [advices] if isinstance(advices, WarehouseShippingAdvice) else list(advices)
    return _interchange(
        [_body_945(advice) for advice in batch],
        functional_id="SW",
        set_id="945",
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
