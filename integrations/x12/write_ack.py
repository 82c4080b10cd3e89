"""Writers for a B2B customer's purchase orders: TA1 Interchange Acknowledgment (the envelope
itself was broken, duplicated or from a stranger), 997 Functional Acknowledgment (we received the
850s and could read them), 855 Purchase Order Acknowledgment (which lines we accept, backorder
or reject) and 856 Ship Notice (what left, with the tracking number), each one complete
ISA/GS/ST..SE/GE/IEA interchange written by the same envelope writer as the 940/945
(integrations/x12/write.py). Pure: no Django, no domain app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from integrations.x12.common import ItemId
from integrations.x12.errors import ErrorCode
from integrations.x12.write import DEFAULT_DELIMITERS, Row, _interchange, _isa, _Writer


@dataclass(frozen=True, slots=True)
class SetAck:
    functional_id: str  # GS01 of the group acknowledged (PO)
    group_control: str  # GS06
    set_id: str  # ST01 (850)
    set_control: str  # ST02
    accepted: bool
    error: str = ""  # AK5-02 syntax error code when rejected (5: one or more segments in error)


def write_997(
    acks: Sequence[SetAck],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    version: str = "004010",
) -> str:
    """One 997 per acknowledged functional group (AK1, AK2/AK5 per set, AK9)."""
    groups: dict[tuple[str, str], list[SetAck]] = {}
    for ack in acks:
        groups.setdefault((ack.functional_id, ack.group_control), []).append(ack)
    bodies: list[list[Row]] = []
    for (functional_id, group_control), sets in groups.items():
        body: list[Row] = [["AK1", functional_id, group_control]]
        for ack in sets:
            body.append(["AK2", ack.set_id, ack.set_control])
            body.append(
                ["AK5", "A" if ack.accepted else "R", None if ack.accepted else ack.error or "5"]
            )
        accepted = sum(a.accepted for a in sets)
        status = "A" if accepted == len(sets) else ("P" if accepted else "R")
        body.append(["AK9", status, len(sets), len(sets), accepted])
        bodies.append(body)
    return _interchange(
        bodies,
        functional_id="FA",
        set_id="997",
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_number=control_number,
        now=now,
        sender_qualifier=sender_qualifier,
        receiver_qualifier=receiver_qualifier,
        version=version,
        usage="P",
        delimiters=DEFAULT_DELIMITERS,
        line_breaks=True,
    )


# TA105 interchange note codes (X12 TA1) for what the codec finds wrong with an envelope.
TA1_NO_ERROR = "000"
TA1_CONTROL_MISMATCH = "001"  # ISA13 and IEA02 differ
TA1_INVALID_SENDER = "006"  # the sender is not our trading partner
TA1_GROUP_COUNT = "021"  # IEA01 is not the number of groups
TA1_CONTROL_STRUCTURE = "022"
TA1_END_OF_FILE = "023"  # the interchange ends early (no IEA)
TA1_CONTENT = "024"  # a GS or another segment the envelope does not allow
TA1_DUPLICATE = "025"  # an interchange control number already received
TA1_NOTE_CODES = {
    ErrorCode.IEA_CONTROL_MISMATCH: TA1_CONTROL_MISMATCH,
    ErrorCode.IEA_COUNT_MISMATCH: TA1_GROUP_COUNT,
    ErrorCode.MISSING_TRAILER: TA1_END_OF_FILE,
    ErrorCode.GS_MALFORMED: TA1_CONTENT,
    ErrorCode.UNEXPECTED_SEGMENT: TA1_CONTENT,
    ErrorCode.SEGMENT_MALFORMED: TA1_CONTENT,
}


@dataclass(frozen=True, slots=True)
class InterchangeAck:
    control_number: str  # ISA13 of the interchange acknowledged
    date: str  # its ISA09 (YYMMDD)
    time: str  # its ISA10 (HHMM)
    status: str  # TA104: A accepted, E accepted with errors, R rejected
    note_code: str = TA1_NO_ERROR  # TA105


@dataclass(frozen=True, slots=True)
class IsaHeader:
    sender_id: str  # ISA06, blanks removed
    control_number: str  # ISA13
    date: str  # ISA09
    time: str  # ISA10


def read_isa_header(data: bytes | str) -> IsaHeader | None:
    """The few ISA elements a TA1 needs, read from a file the codec refused: ISA is fixed width
    (106 characters, its element separator the fourth). None when it is not even that."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    text = text.lstrip("\ufeff \r\n\t")
    if not text.startswith("ISA") or len(text) < 106:
        return None
    fields = text[:106].split(text[3])
    if len(fields) < 17 or not fields[13].strip().isdigit():
        return None
    return IsaHeader(
        sender_id=fields[6].strip(),
        control_number=fields[13].strip(),
        date=fields[9].strip(),
        time=fields[10].strip(),
    )


def write_ta1(
    acks: Sequence[InterchangeAck],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    version: str = "004010",
) -> str:
    """An interchange of TA1 segments only (no functional group: IEA01 is 0)."""
    delimiters = DEFAULT_DELIMITERS
    writer = _Writer(delimiters, line_breaks=True)
    writer.raw(
        _isa(
            sender_id=sender_id,
            receiver_id=receiver_id,
            control_number=control_number,
            now=now,
            sender_qualifier=sender_qualifier,
            receiver_qualifier=receiver_qualifier,
            version=version,
            usage="P",
            delimiters=delimiters,
        )
    )
    for ack in acks:
        writer.segment(
            ["TA1", f"{int(ack.control_number):09d}", ack.date, ack.time, ack.status,
             ack.note_code]
        )  # fmt: skip
    writer.segment(["IEA", 0, f"{control_number:09d}"])
    return writer.text()


@dataclass(frozen=True, slots=True)
class LineAck:
    line_id: str  # PO1-01 of the 850 line
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    item_ids: tuple[ItemId, ...]
    status: str  # ACK-01: IA accepted, IB backordered, IR rejected
    acknowledged_quantity: Decimal


@dataclass(frozen=True, slots=True)
class OrderAck:
    po_number: str
    po_date: dt.date | None
    lines: tuple[LineAck, ...]
    # BAK-02: AC acknowledge with detail and change, AD with detail no change, RJ rejected
    acknowledgment_type: str = "AC"
    order_reference: str = ""  # our order number (BAK-08 seller's order number)


def write_855(
    acks: Sequence[OrderAck],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    version: str = "004010",
) -> str:
    bodies: list[list[Row]] = []
    for ack in acks:
        body: list[Row] = [
            ["BAK", "00", ack.acknowledgment_type, ack.po_number, ack.po_date or now.date(),
             None, None, None, ack.order_reference or None],
        ]  # fmt: skip
        for line in ack.lines:
            pairs: list[str | None] = []
            for item in line.item_ids:
                pairs += [item.qualifier, item.value]
            body.append(
                ["PO1", line.line_id, line.quantity, line.unit, line.unit_price, None, *pairs]
            )
            body.append(["ACK", line.status, line.acknowledged_quantity, line.unit])
        body.append(["CTT", len(ack.lines)])
        bodies.append(body)
    return _interchange(
        bodies,
        functional_id="PR",
        set_id="855",
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_number=control_number,
        now=now,
        sender_qualifier=sender_qualifier,
        receiver_qualifier=receiver_qualifier,
        version=version,
        usage="P",
        delimiters=DEFAULT_DELIMITERS,
        line_breaks=True,
    )


@dataclass(frozen=True, slots=True)
class ShippedItem:
    line_id: str
    item_ids: tuple[ItemId, ...]
    quantity: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class Shipment856:
    shipment_id: str  # BSN-02
    shipped_at: dt.datetime
    po_number: str
    carrier: str
    tracking_numbers: tuple[str, ...]
    items: tuple[ShippedItem, ...]


def write_856(
    notice: Shipment856,
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    now: dt.datetime,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    version: str = "004010",
) -> str:
    """Shipment → order → items (HL S, O, I); tracking numbers as REF CN at shipment level."""
    at = notice.shipped_at
    body: list[Row] = [
        ["BSN", "00", notice.shipment_id, at.date(), at.strftime("%H%M")],
        ["HL", 1, None, "S"],
        ["TD5", None, "2", notice.carrier or None],
        *(["REF", "CN", number] for number in notice.tracking_numbers),
        ["DTM", "011", notice.shipped_at.date()],
        ["HL", 2, 1, "O"],
        ["PRF", notice.po_number],
    ]  # fmt: skip
    for number, item in enumerate(notice.items, start=3):
        pairs: list[str | None] = []
        for item_id in item.item_ids:
            pairs += [item_id.qualifier, item_id.value]
        body.append(["HL", number, 2, "I"])
        body.append(["LIN", item.line_id, *pairs])
        body.append(["SN1", None, item.quantity, item.unit])
    body.append(["CTT", len(notice.items)])
    return _interchange(
        [body],
        functional_id="SH",
        set_id="856",
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_number=control_number,
        now=now,
        sender_qualifier=sender_qualifier,
        receiver_qualifier=receiver_qualifier,
        version=version,
        usage="P",
        delimiters=DEFAULT_DELIMITERS,
        line_breaks=True,
    )
