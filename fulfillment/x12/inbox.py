"""X12 files from file nodes: the inbox and the inbound message log. 945 Warehouse Shipping
Advices are applied here; other sets go to the handler an upper layer registered for their ST01
(sets.py: the 944 Warehouse Stock Transfer Receipt Advice → returns/x12.py), and a set nobody
handles is refused `unsupported_transaction_set`.

    import_945_file(path, node_code=None)   one file; import_x12_inbox() every file of the inbox
    reprocess_advice(message, actor)        a logged 945 applied again (integrations/inbound.py)

A file is parsed strictly (fulfillment/x12/connector.py writes the 940s the warehouse answers).
A file whose envelope is broken is applied not at all: it is moved to `failed/` next to it and
logged as a failed InboundMessage with its X12 error code. Otherwise each 945 in it is one
shipping advice, applied on its own (fulfillment/x12/apply.py; mapping.py says how):

- the fulfillment order is the one whose number is W06-02 (the 940's depositor order number);
- ship_fulfillment()/reject_fulfillment() get message id `<ISA13>-<GS06>-<ST02>` from source
  `x12:<node>`, logged as kind `x12.945`, so a file imported twice (or a 945 sent twice) has
  one effect; the same id for another fulfillment order or with other content is refused
  `message_id_reused` (the warehouse reused a control number) and not kept.

An advice that cannot be applied (unknown fulfillment order, unknown item, a transition the
fulfillment order's status refuses...) is logged as a failed InboundMessage with a code; the
others still apply. The file then goes to `failed/` (it needs a person; importing it again is
safe), else to `processed/`.
"""

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from fulfillment.x12.apply import KIND, AdviceRefused, apply_advice
from fulfillment.x12.connector import partner_settings
from fulfillment.x12.mapping import advice_from_payload, advice_payload
from fulfillment.x12.results import AdviceResult, ImportResult, X12ImportError
from fulfillment.x12.sets import InboundSet, refuse_set, set_handler_for
from integrations.models import InboundMessage
from integrations.services import AfterFailure, record_failure
from integrations.x12 import (
    FunctionalGroup,
    Interchange,
    TransactionSet,
    X12Error,
    parse_interchanges,
    read_945,
)
from inventory.models import Node, NodeConnector
from oms.core.actors import Actor
from oms.core.errors import NotFound

logger = logging.getLogger(__name__)

INBOX_SUFFIXES = (".edi", ".x12", ".txt")
PROCESSED, FAILED = "processed", "failed"
# A scheduled scan leaves files younger than this alone: the partner may still be uploading.
INBOX_SETTLE_SECONDS = 30.0


# -- the inbox ----------------------------------------------------------------------------------


def inbox_files(inbox: Path, *, min_age_seconds: float = 0.0) -> list[Path]:
    """The *.edi / *.x12 / *.txt files directly in `inbox` (not processed/ or failed/), oldest
    name first; files modified less than `min_age_seconds` ago are left for the next scan."""
    if not inbox.is_dir():
        return []
    now = time.time()
    found = []
    for path in sorted(inbox.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in INBOX_SUFFIXES:
            continue
        try:
            if not path.is_file() or now - path.stat().st_mtime < min_age_seconds:
                continue
        except FileNotFoundError:
            continue  # moved by a concurrent run
        found.append(path)
    return found


def import_x12_inbox(
    inbox: Path | str | None = None,
    *,
    node_code: str | None = None,
    min_age_seconds: float = 0.0,
) -> list[ImportResult]:
    folder = Path(inbox or settings.OMS_X12_INBOX_DIR)
    return [
        import_945_file(path, node_code=node_code)
        for path in inbox_files(folder, min_age_seconds=min_age_seconds)
    ]


# -- one file -----------------------------------------------------------------------------------


@dataclass
class _File:
    path: Path
    node: Node | None  # given, or the one X12 node whose partner id sent the interchange
    results: list[AdviceResult] = field(default_factory=list)


def import_945_file(path: Path | str, *, node_code: str | None = None) -> ImportResult:
    """Apply every 945 of one file, then move it to processed/ or failed/ beside it."""
    path = Path(path)
    given = None
    if node_code:
        given = Node.objects.filter(code=node_code).first()
        if given is None:
            raise NotFound(f"No node {node_code!r}.", code="node_not_found")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ImportResult(file=path.name, status="skipped", error="gone (moved by another run)")
    except OSError as exc:  # left where it is: the next scan tries again
        logger.warning("x12 945 file unreadable", extra={"file": path.name, "error": str(exc)})
        return ImportResult(
            file=path.name, status="skipped", error_code="unreadable", error=str(exc)
        )
    digest = hashlib.sha256(data).hexdigest()
    try:
        interchanges = parse_interchanges(data)  # strict: counts and control numbers must match
    except X12Error as exc:
        return _file_failed(path, given, digest, len(data), exc.code, _x12_detail(exc))
    sets = [
        (interchange, group, ts)
        for interchange in interchanges
        for group in interchange.groups
        for ts in group.transaction_sets
    ]
    if not sets:
        return _file_failed(
            path,
            given,
            digest,
            len(data),
            "no_transaction_set",
            "The file holds no transaction set.",
        )
    current = _File(path=path, node=given or _node_by_partner_id(interchanges[0].sender_id))
    for index, (interchange, group, ts) in enumerate(sets, start=1):
        current.results.append(_import_set(current, interchange, group, ts, index))
    failed = any(result.outcome == "failed" for result in current.results)
    moved = archive_file(path, FAILED if failed else PROCESSED)
    result = ImportResult(
        file=path.name,
        status=FAILED if failed else PROCESSED,
        moved_to=str(moved) if moved else "",
        advices=tuple(current.results),
    )
    logger.info(
        "x12 945 file imported",
        extra={
            "file": path.name,
            "status": result.status,
            "advices": len(result.advices),
            "applied": result.applied,
            "duplicates": result.duplicates,
            "errors": [code for code, _ in result.errors],
        },
    )
    return result


def _file_failed(
    path: Path, node: Node | None, digest: str, size: int, code: str, message: str
) -> ImportResult:
    moved = archive_file(path, FAILED)
    record_failure(
        source=f"x12:{node.code}" if node else "x12:inbox",
        message_id=f"file:{digest}",
        kind=KIND,
        payload={
            "file": path.name,
            "sha256": digest,
            "bytes": size,
            "inbox": str(path.parent),
            "kept_at": str(moved) if moved else "",
        },
        error=X12ImportError(str(code), message),
        subject=path.name[:100],
        then=AfterFailure.DEAD,  # the same bytes fail the same way: a person fixes the file
    )
    logger.warning(
        "x12 945 file refused", extra={"file": path.name, "code": str(code), "error": message}
    )
    return ImportResult(
        file=path.name,
        status=FAILED,
        moved_to=str(moved) if moved else "",
        error_code=str(code),
        error=message,
    )


def _x12_detail(exc: X12Error) -> str:
    """The message and where (segment position from the first ISA = 0, and its id)."""
    if exc.segment_index is None:
        return exc.message
    where = " ".join(str(part) for part in (exc.segment_index, exc.segment_id or "") if part != "")
    return f"{exc.message} (segment {where})"


def archive_file(path: Path, folder_name: str) -> Path | None:
    """Move the file into `<its folder>/<folder_name>/`, never over an earlier file."""
    folder = path.parent / folder_name
    target = folder / path.name
    number = 1
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while target.exists():
            target = folder / f"{path.stem}.{number}{path.suffix}"
            number += 1
        os.replace(path, target)
    except FileNotFoundError:
        return None  # a concurrent run moved it first
    except OSError as exc:  # it stays in the inbox; importing it again is safe
        logger.warning("x12 file not moved", extra={"file": path.name, "error": str(exc)})
        return None
    return target


def _node_by_partner_id(sender_id: str) -> Node | None:
    """The X12 node whose partner id (connector_settings receiver_id, else its code in upper
    case) is the interchange's sender, when exactly one is."""
    matches = [
        node
        for node in Node.objects.filter(connector=NodeConnector.X12_FILE)
        if partner_settings(node.code, node.connector_settings)["receiver_id"] == sender_id
    ]
    return matches[0] if len(matches) == 1 else None


# -- one shipping advice ------------------------------------------------------------------------


def _import_set(
    current: _File,
    interchange: Interchange,
    group: FunctionalGroup,
    ts: TransactionSet,
    index: int,
) -> AdviceResult:
    message_id = f"{interchange.control_number}-{group.control_number}-{ts.control_number}"
    envelope = {
        "sender": interchange.sender_id,
        "receiver": interchange.receiver_id,
        "interchange": interchange.control_number,
        "group": group.control_number,
        "transaction_set": f"{ts.id}/{ts.control_number}",
    }
    # Known only by its ISA sender id until the fulfillment order names the node.
    fallback_source = (
        f"x12:{current.node.code}" if current.node else f"x12:isa:{interchange.sender_id}"
    )
    handler = set_handler_for(ts.id) if ts.id != "945" else None
    if handler is not None:  # a set an upper layer applies (sets.py: the 944 → returns)
        return handler(
            InboundSet(
                ts=ts,
                message_id=message_id,
                envelope=envelope,
                node=current.node,
                fallback_source=fallback_source,
            )
        )
    try:
        advice = read_945(ts)
    except X12Error as exc:
        return _failed(fallback_source, message_id, envelope, "", exc.code, _x12_detail(exc))
    payload = {**envelope, **advice_payload(advice)}
    try:
        return apply_advice(
            advice,
            payload,
            message_id,
            node=current.node,
            fallback_source=fallback_source,
            fallback_tracking=f"{current.path.stem}-{index}",
        )
    except AdviceRefused as exc:
        detail = "; ".join([exc.detail, *(e.detail for e in exc.errors)])
        return _failed(exc.source, message_id, payload, exc.number, exc.code, detail)


def _failed(
    source: str,
    message_id: str,
    payload: dict[str, Any],
    number: str,
    code: str,
    detail: str,
) -> AdviceResult:
    return refuse_set(
        kind=KIND,
        source=source,
        message_id=message_id,
        payload=payload,
        number=number,
        code=code,
        detail=detail,
        transaction_set="945",
    )


# -- a logged 945 applied again -----------------------------------------------------------------


def reprocess_advice(message: InboundMessage, actor: Actor) -> dict[str, Any]:
    """Apply a logged 945 again (integrations/inbound.py handler for `x12.945`): one advice
    from its payload, or a whole refused file from where it was kept."""
    if message.message_id.startswith("file:"):
        return _reimport_file(message)
    if "lines" not in message.payload:
        raise X12ImportError(
            "advice_unreadable",
            "This 945 could not be read, so there is nothing to apply again; ask the warehouse "
            "to send it again.",
        )
    node_code = message.source.removeprefix("x12:")
    node = Node.objects.filter(code=node_code).first() if ":" not in node_code else None
    result = apply_advice(
        advice_from_payload(message.payload),
        message.payload,
        message.message_id,
        node=node,
        fallback_source=message.source,
        fallback_tracking=message.message_id,
        source=message.source,
        actor=actor,
    )
    return {"outcome": result.outcome, "fulfillment": result.fulfillment}


def _reimport_file(message: InboundMessage) -> dict[str, Any]:
    kept = Path(message.payload.get("kept_at") or "")
    inbox = Path(message.payload.get("inbox") or settings.OMS_X12_INBOX_DIR)
    if not message.payload.get("kept_at") or not kept.is_file():
        raise X12ImportError(
            "file_not_found",
            f"The refused file is no longer at {kept or 'its failed/ folder'}; put the "
            f"corrected file in the inbox ({inbox}) instead.",
        )
    target = inbox / message.payload.get("file", kept.name)
    if target.exists():
        raise X12ImportError("file_in_inbox", f"{target.name} is already in the inbox.")
    os.replace(kept, target)
    node_code = message.source.removeprefix("x12:")
    result = import_945_file(target, node_code=None if node_code == "inbox" else node_code)
    if result.status != PROCESSED:
        code, detail = (result.errors or [("advices_failed", "")])[0]
        raise X12ImportError(
            code or "advices_failed",
            f"{result.file} was imported again and failed: {detail}",
        )
    return {"file": result.file, "applied": result.applied, "duplicates": result.duplicates}
