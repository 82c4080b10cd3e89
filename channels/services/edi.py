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

Interchanges (ISA13 per sender) are taken once: each is logged (kind `channel.edi_interchange`,
message id `isa:<sender>:<ISA13>`) after its sets were applied and its 997 written, and one
already logged is answered with a TA1 `R` 025 (duplicate) instead of being read again. A TA1
also answers an envelope the codec refused (`R`, with the note code of its error, when the ISA
header can still be read), an interchange from a sender that is not the partner (`R` 006), and
one whose trailer disagrees with its header (`E`, taken with errors: 001 control number, 021
group count).

The inbox (`import_edi_inbox`, beat every minute, `manage.py import_edi --inbox`): the files in
the partner's folder (`settings.inbox_dir`, default `OMS_X12_INBOX_DIR/channels/<code>/`),
settled for 30 s, each imported, then moved to `processed/` (or `failed/` when refused).
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from channels.adapters.base import Notice, Topic
from channels.adapters.x12 import next_control_number, our_id, outbox
from channels.models import ChannelConnection, Platform
from channels.services.inbound import KIND, receive_notice
from fulfillment.x12.inbox import FAILED, INBOX_SETTLE_SECONDS, PROCESSED, archive_file, inbox_files
from integrations.services import (
    AfterFailure,
    already_processed,
    finish_message,
    receive_message,
    record_failure,
)
from integrations.x12.envelope import (
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchanges,
)
from integrations.x12.errors import X12Error
from integrations.x12.read_850 import PurchaseOrder, read_850
from integrations.x12.write_ack import (
    TA1_CONTROL_STRUCTURE,
    TA1_DUPLICATE,
    TA1_INVALID_SENDER,
    TA1_NOTE_CODES,
    InterchangeAck,
    SetAck,
    read_isa_header,
    write_997,
    write_ta1,
)
from oms.core.errors import DomainError

INTERCHANGE_KIND = "channel.edi_interchange"


@dataclass
class EdiResult:
    results: list[dict[str, Any]] = field(default_factory=list)
    acks_997: list[str] = field(default_factory=list)  # one per interchange in the file
    ack_files: list[str] = field(default_factory=list)  # the 997s and TA1s written
    ta1s: list[str] = field(default_factory=list)
    refused: str = ""  # the whole file's refusal code


def _refuse_file(
    connection: ChannelConnection,
    raw: bytes,
    name: str,
    code: str,
    detail: str,
    result: EdiResult | None = None,
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
    result = result or EdiResult()
    result.refused = code
    return result


def _write(connection: ChannelConnection, result: EdiResult, file_name: str, text: str) -> None:
    (outbox(connection) / file_name).write_text(text)
    result.ack_files.append(file_name)


def _ta1(
    connection: ChannelConnection,
    result: EdiResult,
    sender_id: str,
    ack: InterchangeAck,
) -> None:
    """Answer one interchange's envelope with a TA1 (to its sender, in the partner's outbox)."""
    if not sender_id:
        return
    text = write_ta1(
        [ack],
        sender_id=our_id(connection),
        receiver_id=sender_id[:15],
        control_number=next_control_number(connection),
        now=timezone.now(),
    )
    _write(connection, result, f"TA1-{sender_id}-{ack.control_number}.edi", text)
    result.ta1s.append(text)


def _interchange_id(interchange: Interchange) -> str:
    return f"isa:{interchange.sender_id}:{interchange.control_number}"


def import_interchange(connection: ChannelConnection, raw: bytes, *, name: str = "") -> EdiResult:
    """Every interchange of the file (partners batch several), each answered with its 997, and
    with a TA1 when its envelope was refused, duplicated or sent by a stranger."""
    try:
        interchanges = parse_interchanges(raw, strict=False)  # partners pad ISA loosely
    except X12Error as exc:
        result = _refuse_file(connection, raw, name, str(exc.code), str(exc))
        header = read_isa_header(raw)
        if header is not None:
            note = TA1_NOTE_CODES.get(exc.code, TA1_CONTROL_STRUCTURE)
            ack = InterchangeAck(header.control_number, header.date, header.time, "R", note)
            _ta1(connection, result, header.sender_id, ack)
        return result
    partner = str(connection.settings.get("isa_id") or "")
    strangers = [i for i in interchanges if partner and i.sender_id != partner]
    if strangers:
        result = _refuse_file(
            connection,
            raw,
            name,
            "unknown_trading_partner",
            f"The file is from {strangers[0].sender_id}, not the partner {partner}.",
        )
        for stranger in strangers:
            ack = InterchangeAck(
                stranger.control_number, stranger.date, stranger.time, "R", TA1_INVALID_SENDER
            )
            _ta1(connection, result, stranger.sender_id, ack)
        return result
    result = EdiResult()
    for interchange in interchanges:
        if already_processed(source=connection.source, message_id=_interchange_id(interchange)):
            result.results.append(
                {"status": "duplicate_interchange", "interchange": interchange.control_number}
            )
            ack = InterchangeAck(
                interchange.control_number, interchange.date, interchange.time, "R", TA1_DUPLICATE
            )
            _ta1(connection, result, interchange.sender_id, ack)
            continue
        envelope_notes = [
            TA1_NOTE_CODES[issue.code] for issue in interchange.issues
            if issue.code in TA1_NOTE_CODES
        ]  # fmt: skip
        if envelope_notes:  # read with errors: its trailer disagrees with its header
            ack = InterchangeAck(
                interchange.control_number,
                interchange.date,
                interchange.time,
                "E",
                envelope_notes[0],
            )
            _ta1(connection, result, interchange.sender_id, ack)
        acks = [_apply_set(connection, interchange, group, ts, name, result)
                for group in interchange.groups for ts in group.transaction_sets]  # fmt: skip
        if acks:
            text = write_997(
                acks,
                sender_id=our_id(connection),
                receiver_id=interchange.sender_id[:15],
                control_number=next_control_number(connection),
                now=timezone.now(),
            )
            _write(
                connection,
                result,
                f"997-{interchange.sender_id}-{interchange.control_number}.edi",
                text,
            )
            result.acks_997.append(text)
        _log_interchange(connection, interchange, name, len(acks))
    return result


def _log_interchange(
    connection: ChannelConnection, interchange: Interchange, name: str, sets: int
) -> None:
    """The interchange was taken: its sets applied (each once, by its own message id) and its
    997 written. Logged last, so a run that dies before it reads the interchange again."""
    with transaction.atomic():
        received = receive_message(
            source=connection.source,
            message_id=_interchange_id(interchange),
            kind=INTERCHANGE_KIND,
            payload={
                "sender": interchange.sender_id,
                "control_number": interchange.control_number,
                "groups": [g.control_number for g in interchange.groups],
                "sets": sets,
            },
            subject=interchange.control_number[:100],
        )
        if not received.duplicate:
            finish_message(received.message, result={"file": name, "sets": sets})


# -- the inbox ----------------------------------------------------------------------------------


def inbox(connection: ChannelConnection) -> Path:
    """The partner's inbox folder: `settings.inbox_dir` (relative to OMS_X12_INBOX_DIR), else
    `OMS_X12_INBOX_DIR/channels/<code>/`."""
    base = Path(django_settings.OMS_X12_INBOX_DIR)
    configured = str(connection.settings.get("inbox_dir") or "")
    return base / configured if configured else base / "channels" / connection.code


def import_edi_file(connection: ChannelConnection, path: Path) -> EdiResult | None:
    """One file of the inbox, then moved to processed/ (failed/ when the file was refused).
    None when another run took it first."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    result = import_interchange(connection, raw, name=path.name)
    archive_file(path, FAILED if result.refused else PROCESSED)
    return result


def import_edi_inbox(
    connection: ChannelConnection, *, min_age_seconds: float = INBOX_SETTLE_SECONDS
) -> dict[str, int]:
    counts: dict[str, int] = {"files": 0}
    for path in inbox_files(inbox(connection), min_age_seconds=min_age_seconds):
        result = import_edi_file(connection, path)
        if result is None:
            continue
        counts["files"] += 1
        if result.refused:
            counts["refused_files"] = counts.get("refused_files", 0) + 1
        for outcome in result.results:
            counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
        counts["ta1"] = counts.get("ta1", 0) + len(result.ta1s)
    return counts


def import_edi_inboxes() -> dict[str, dict[str, int]]:
    """The beat task's run: every EDI channel that takes orders in."""
    return {
        connection.code: import_edi_inbox(connection)
        for connection in ChannelConnection.objects.select_related("channel").filter(
            platform=Platform.X12, inbound_enabled=True
        )
    }


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
