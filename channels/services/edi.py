"""B2B EDI in: an X12 interchange of 850 purchase orders from a trading partner.

    parse (the X12 codec, strict)        broken envelope → the file refused with the codec's code
    sender = the partner's ISA id?       else refused `unknown_trading_partner`
    each 850: read_850 → a notice (message id <sender>:<ISA13>:<GS06>:<ST02>) applied like every
              channel's order (channels/services/inbound.py → capture_order); the 855 is queued
              in the same transaction (channels/adapters/x12.py)
    997: every set acknowledged (AK5 A when it could be read, R when not), written to the
         partner's outbox folder

A refused PO (unknown item, unit, address) is kept in the inbound log with its code and raises a
case; the partner still gets its 997 (the file was received and read).
"""

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from channels.adapters.base import Notice, Topic
from channels.adapters.x12 import next_control_number, our_id, outbox
from channels.models import ChannelConnection
from channels.services.inbound import KIND, receive_notice
from integrations.services import AfterFailure, record_failure
from integrations.x12.envelope import (
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchanges,
)
from integrations.x12.errors import X12Error
from integrations.x12.read_850 import PurchaseOrder, read_850
from integrations.x12.write_ack import SetAck, write_997
from oms.core.errors import DomainError


@dataclass
class EdiResult:
    results: list[dict[str, Any]] = field(default_factory=list)
    acks_997: list[str] = field(default_factory=list)  # one per interchange in the file
    ack_files: list[str] = field(default_factory=list)
    refused: str = ""  # the whole file's refusal code


def _refuse_file(
    connection: ChannelConnection, raw: bytes, name: str, code: str, detail: str
) -> EdiResult:
    record_failure(
        source=connection.source,
        message_id=f"file:{hashlib.sha256(raw).hexdigest()}",
        kind=KIND,
        payload={"file": name, "size": len(raw)},
        error=DomainError(code=code, detail=detail, http_status=422),
        subject=name[:100],
        then=AfterFailure.DEAD,
    )
    return EdiResult(refused=code)


def import_interchange(connection: ChannelConnection, raw: bytes, *, name: str = "") -> EdiResult:
    """Every interchange of the file (partners batch several), each answered with its 997."""
    try:
        interchanges = parse_interchanges(raw, strict=False)  # partners pad ISA loosely
    except X12Error as exc:
        return _refuse_file(connection, raw, name, str(exc.code), str(exc))
    partner = str(connection.settings.get("isa_id") or "")
    strangers = [i.sender_id for i in interchanges if partner and i.sender_id != partner]
    if strangers:
        return _refuse_file(
            connection,
            raw,
            name,
            "unknown_trading_partner",
            f"The file is from {strangers[0]}, not the partner {partner}.",
        )
    result = EdiResult()
    for interchange in interchanges:
        acks = [_apply_set(connection, interchange, group, ts, name, result)
                for group in interchange.groups for ts in group.transaction_sets]  # fmt: skip
        if not acks:
            continue
        text = write_997(
            acks,
            sender_id=our_id(connection),
            receiver_id=interchange.sender_id[:15],
            control_number=next_control_number(connection),
            now=timezone.now(),
        )
        file_name = f"997-{interchange.sender_id}-{interchange.control_number}.edi"
        (outbox(connection) / file_name).write_text(text)
        result.acks_997.append(text)
        result.ack_files.append(file_name)
    return result


def _apply_set(
    connection: ChannelConnection,
    interchange: Interchange,
    group: FunctionalGroup,
    ts: TransactionSet,
    name: str,
    result: EdiResult,
) -> SetAck:
    message_id = (
        f"{interchange.sender_id}:{interchange.control_number}:"
        f"{group.control_number}:{ts.control_number}"
    )
    try:
        po = read_850(ts)
    except X12Error as exc:
        record_failure(
            source=connection.source,
            message_id=message_id,
            kind=KIND,
            payload={"file": name, "set": ts.id, "control_number": ts.control_number},
            error=DomainError(code=str(exc.code), detail=str(exc), http_status=422),
            subject=ts.control_number,
            then=AfterFailure.DEAD,
        )
        result.results.append({"status": "refused", "code": str(exc.code)})
        return SetAck(group.functional_id, group.control_number, ts.id, ts.control_number, False)
    notice = Notice(Topic.ORDER, message_id, po.number, po_payload(po, interchange))
    result.results.append(receive_notice(connection, notice))
    return SetAck(group.functional_id, group.control_number, ts.id, ts.control_number, True)


def po_payload(po: PurchaseOrder, interchange: Interchange) -> dict[str, Any]:
    """The 850 as the inbound log keeps it (JSON) and the adapter maps it."""

    def party(*roles: str) -> dict[str, Any] | None:
        found = po.party(*roles)
        if found is None:
            return None
        return {
            "name": found.name,
            "id": found.id,
            "address_lines": list(found.address_lines),
            "city": found.city,
            "state": found.state,
            "postal_code": found.postal_code,
            "country": found.country,
        }

    return {
        "sender_id": interchange.sender_id,
        "number": po.number,
        "purpose": po.purpose,
        "order_type": po.order_type,
        "date": po.date.isoformat() if po.date else None,
        "currency": po.currency,
        "ship_to": party("ST"),
        "buyer": party("BY", "BT"),
        "lines": [
            {
                "line_id": line.line_id,
                "quantity": str(line.quantity) if line.quantity is not None else None,
                "unit": line.unit,
                "unit_price": str(line.unit_price) if line.unit_price is not None else None,
                "item_ids": [[i.qualifier, i.value] for i in line.item_ids],
                "description": line.description,
            }
            for line in po.lines
        ],
    }
