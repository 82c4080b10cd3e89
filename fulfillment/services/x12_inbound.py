"""945 Warehouse Shipping Advice files from X12 nodes → shipments (or rejections).

    import_945_file(path, node_code=None)   one file; import_x12_inbox() every file of the inbox

A file is parsed strictly (fulfillment/connectors/x12_file.py writes the 940s the warehouse
answers). A file whose envelope is broken is applied not at all: it is moved to `failed/` next
to it and logged as a failed InboundMessage with its X12 error code. Otherwise each 945 in it is
one shipping advice, applied on its own:

- the fulfillment order is the one whose number is W06-02 (the 940's depositor order number);
- each W12 is matched to the fulfillment order's lines by SKU (SK/VN/VC/VP item id, then any
  item id), W12-03 is the quantity shipped; a line shipped short (or not listed) is a short
  shipment, rerouted like a short pick; nothing shipped at all is a rejection;
- carrier = W27-02 (SCAC, else "X12"), tracking numbers = the advice's N9 2I/CN/08 and MAN CP,
  else its bill of lading, else `<file>-<index>`; ship date = W06-03 (else G62 11);
- ship_fulfillment()/reject_fulfillment() get message id `<ISA13>-<GS06>-<ST02>` from source
  `x12:<node>`, so a file imported twice (or a 945 sent twice) has one effect.

An advice that cannot be applied (unknown fulfillment order, unknown item, a transition the
fulfillment order's status refuses...) is logged as a failed InboundMessage with a code; the
others still apply. The file then goes to `failed/` (it needs a person; importing it again is
safe), else to `processed/`.
"""

import datetime as dt
import hashlib
import logging
import os
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from fulfillment.connectors.x12_file import partner_settings
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.services.feedback import FeedbackMessage, reject_fulfillment
from fulfillment.services.shipping import Package, ship_fulfillment
from integrations.models import InboundMessage, InboundStatus
from integrations.services import AfterFailure, record_failure
from integrations.x12 import (
    Carrier,
    FunctionalGroup,
    Interchange,
    ItemId,
    Reference,
    ShipmentAdviceLine,
    TransactionSet,
    WarehouseShippingAdvice,
    X12Error,
    parse_interchanges,
    read_945,
)
from inventory.models import Node, NodeConnector, normalize_sku
from oms.core.actors import Actor
from oms.core.errors import DomainError, NotFound

logger = logging.getLogger(__name__)

KIND = "x12.945"
SHORT_REASON = "short shipped (945)"
REJECT_REASON = "warehouse shipped nothing (945)"
DEFAULT_CARRIER = "X12"
INBOX_SUFFIXES = (".edi", ".x12", ".txt")
PROCESSED, FAILED = "processed", "failed"
# A scheduled scan leaves files younger than this alone: the partner may still be uploading.
INBOX_SETTLE_SECONDS = 30.0

APPLIED_OUTCOMES = ("shipped", "short_shipped", "rejected")
TRACKING_QUALIFIER = "2I"  # N9 2I: tracking number
BILL_OF_LADING_QUALIFIER = "BM"


class X12ImportError(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=422)


@dataclass(frozen=True)
class AdviceResult:
    message_id: str  # <ISA13>-<GS06>-<ST02>
    fulfillment: str  # W06-02 as sent ("" when empty)
    outcome: str  # shipped | short_shipped | rejected | duplicate | failed
    error_code: str = ""
    error: str = ""
    tracking_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    file: str
    status: str  # processed | failed | skipped
    moved_to: str = ""
    advices: tuple[AdviceResult, ...] = ()
    error_code: str = ""  # a file-level problem (broken envelope, unreadable, no 945 in it)
    error: str = ""

    @property
    def applied(self) -> int:
        return sum(a.outcome in APPLIED_OUTCOMES for a in self.advices)

    @property
    def duplicates(self) -> int:
        return sum(a.outcome == "duplicate" for a in self.advices)

    @property
    def errors(self) -> list[tuple[str, str]]:
        found = [(self.error_code, self.error)] if self.error_code else []
        return found + [(a.error_code, a.error) for a in self.advices if a.outcome == "failed"]


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
            path, given, digest, len(data), "no_transaction_set", "The file holds no 945."
        )
    current = _File(path=path, node=given or _node_by_partner_id(interchanges[0].sender_id))
    for index, (interchange, group, ts) in enumerate(sets, start=1):
        current.results.append(_import_set(current, interchange, group, ts, index))
    failed = any(result.outcome == "failed" for result in current.results)
    moved = _archive(path, FAILED if failed else PROCESSED)
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
    moved = _archive(path, FAILED)
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


def _archive(path: Path, folder_name: str) -> Path | None:
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
        logger.warning("x12 945 file not moved", extra={"file": path.name, "error": str(exc)})
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


class AdviceRefused(X12ImportError):
    """An advice that cannot be applied, with the source it is logged under."""

    def __init__(self, error: DomainError, *, source: str, number: str) -> None:
        super().__init__(error.code, error.detail)
        self.errors = error.errors
        self.source = source
        self.number = number


def apply_advice(
    advice: WarehouseShippingAdvice,
    payload: dict[str, Any],
    message_id: str,
    *,
    node: Node | None,
    fallback_source: str,
    fallback_tracking: str,
    source: str | None = None,
    actor: Actor | None = None,
) -> AdviceResult:
    """Ship (or reject) the fulfillment order the advice names, as message `message_id` from
    `source` (by default x12:<the node>). Raises AdviceRefused when it cannot be applied."""
    number = advice.depositor_order_number or ""
    fo = (
        FulfillmentOrder.objects.select_related("node").filter(number=number).first()
        if number
        else None
    )
    node = node or (fo.node if fo is not None else None)
    source = source or (f"x12:{node.code}" if node else fallback_source)

    def refused(code: str, detail: str) -> AdviceRefused:
        return AdviceRefused(X12ImportError(code, detail), source=source, number=number)

    if fo is None:
        detail = (
            f"No fulfillment order {number!r} (W06-02)."
            if number
            else "The 945 has no depositor order number (W06-02)."
        )
        raise refused("unknown_fulfillment", detail)
    if node is not None and fo.node_id != node.pk:
        raise refused(
            "wrong_node", f"Fulfillment {fo.number} is at {fo.node.code}, not at {node.code}."
        )
    if InboundMessage.objects.filter(
        source=source, message_id=message_id, status=InboundStatus.PROCESSED
    ).exists():
        return AdviceResult(message_id=message_id, fulfillment=number, outcome="duplicate")
    message = FeedbackMessage(source=source, message_id=message_id, payload=payload)
    actor = actor or Actor.system(f"x12:{fo.node.code}")
    try:
        shipped, packages = plan_shipment(fo, advice, fallback_tracking)
        if not any(shipped.values()):
            reject_fulfillment(
                fulfillment_id=fo.pk, reason=REJECT_REASON, actor=actor, message=message
            )
            return AdviceResult(message_id=message_id, fulfillment=number, outcome="rejected")
        ship_fulfillment(
            fulfillment_id=fo.pk,
            packages=packages,
            actor=actor,
            shipped=shipped,
            short_reason=SHORT_REASON,
            shipped_at=_shipped_at(advice.ship_date, fo.node),
            message=message,
        )
    except DomainError as exc:
        raise AdviceRefused(exc, source=source, number=number) from exc
    ordered = dict(fo.lines.values_list("id", "quantity"))
    short = any(shipped.get(pk, 0) < quantity for pk, quantity in ordered.items())
    return AdviceResult(
        message_id=message_id,
        fulfillment=number,
        outcome="short_shipped" if short else "shipped",
        tracking_numbers=tuple(p.tracking_number for p in packages),
    )


def _failed(
    source: str,
    message_id: str,
    payload: dict[str, Any],
    number: str,
    code: str,
    detail: str,
) -> AdviceResult:
    record_failure(
        source=source,
        message_id=message_id,
        kind=KIND,
        payload=payload,
        error=X12ImportError(str(code), detail),
        subject=number[:100],
        then=AfterFailure.RETRY,
    )
    return AdviceResult(
        message_id=message_id,
        fulfillment=number,
        outcome="failed",
        error_code=str(code),
        error=detail,
    )


def advice_payload(advice: WarehouseShippingAdvice) -> dict[str, Any]:
    """What the advice says, as JSON. It depends only on the 945's content (never on the file
    name), so the same 945 imported from another file has the same fingerprint."""
    carrier = advice.carrier
    return {
        "reporting_code": advice.reporting_code,
        "depositor_order_number": advice.depositor_order_number,
        "purchase_order_number": advice.purchase_order_number,
        "shipment_id": advice.shipment_id,
        "ship_date": advice.ship_date.isoformat() if advice.ship_date else None,
        "carrier": {"scac": carrier.scac, "routing": carrier.routing} if carrier else None,
        "bill_of_lading": advice.bill_of_lading,
        "tracking_numbers": list(advice.tracking_numbers),
        "lines": [
            {
                "line_number": line.line_number,
                "status": line.status,
                "item_ids": [[i.qualifier, i.value] for i in line.item_ids],
                "ordered": _number(line.quantity_ordered),
                "shipped": _number(line.quantity_shipped),
                "unit": line.unit,
                "tracking_numbers": list(line.tracking_numbers),
            }
            for line in advice.lines
        ],
    }


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def advice_from_payload(payload: dict[str, Any]) -> WarehouseShippingAdvice:
    """The advice back from its logged JSON (advice_payload), with everything applying it
    reads: advice_payload(advice_from_payload(p)) == p."""
    carrier = payload.get("carrier")

    def tracking(numbers: list[str]) -> tuple[Reference, ...]:
        return tuple(Reference(TRACKING_QUALIFIER, number) for number in numbers)

    bill_of_lading = payload.get("bill_of_lading")
    return WarehouseShippingAdvice(
        depositor_order_number=payload.get("depositor_order_number"),
        reporting_code=payload.get("reporting_code") or "F",
        ship_date=dt.date.fromisoformat(payload["ship_date"]) if payload.get("ship_date") else None,
        shipment_id=payload.get("shipment_id"),
        purchase_order_number=payload.get("purchase_order_number"),
        carrier=Carrier(scac=carrier.get("scac"), routing=carrier.get("routing"))
        if carrier
        else None,
        references=(
            *((Reference(BILL_OF_LADING_QUALIFIER, bill_of_lading),) if bill_of_lading else ()),
            # Every tracking number, header first: the advice's own order is kept.
            *tracking(payload.get("tracking_numbers") or []),
        ),
        lines=tuple(
            ShipmentAdviceLine(
                line_number=line.get("line_number"),
                status=line.get("status"),
                item_ids=tuple(ItemId(q, v) for q, v in line.get("item_ids") or []),
                quantity_ordered=_decimal(line.get("ordered")),
                quantity_shipped=_decimal(line.get("shipped")),
                unit=line.get("unit"),
                references=tracking(line.get("tracking_numbers") or []),
            )
            for line in payload.get("lines") or []
        ),
    )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


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


def plan_shipment(
    fo: FulfillmentOrder, advice: WarehouseShippingAdvice, fallback_tracking: str
) -> tuple[dict[int, int], list[Package]]:
    """(fulfillment line id → units shipped, the packages) for ship_fulfillment().
    Raises X12ImportError for a W12 that cannot be matched or counted."""
    fo_lines = list(
        FulfillmentOrderLine.objects.filter(fulfillment=fo)
        .select_related("order_line")
        .order_by("id")
    )
    by_sku: dict[str, list[FulfillmentOrderLine]] = defaultdict(list)
    for line in fo_lines:
        by_sku[normalize_sku(line.order_line.sku)].append(line)
    if not advice.lines:
        raise X12ImportError("no_lines", f"The 945 for {fo.number} has no W12 line.")
    shipped = {line.pk: 0 for line in fo_lines}
    contents: list[dict[int, int]] = []  # per W12: fulfillment line id → units
    for position, w12 in enumerate(advice.lines, start=1):
        sku = _matching_sku(w12, by_sku)
        if sku is None:
            ids = ", ".join(f"{i.qualifier} {i.value}" for i in w12.item_ids) or "no item id"
            raise X12ImportError(
                "unknown_item",
                f"W12 {position} ({ids}) is not on fulfillment {fo.number}.",
            )
        units = _units(w12, position)
        content: dict[int, int] = {}
        for line in by_sku[sku]:
            take = min(units, line.quantity - shipped[line.pk])
            if take > 0:
                shipped[line.pk] += take
                content[line.pk] = take
                units -= take
        if units:
            raise X12ImportError(
                "quantity_exceeds_order",
                f"W12 {position} ships more {sku} than fulfillment {fo.number} asks for.",
            )
        contents.append(content)
    return shipped, _packages(advice, contents, fallback_tracking)


def _matching_sku(line: ShipmentAdviceLine, by_sku: dict[str, list[Any]]) -> str | None:
    candidates = [line.sku, *(i.value for i in line.item_ids)]
    for candidate in candidates:
        if candidate and normalize_sku(candidate) in by_sku:
            return normalize_sku(candidate)
    return None


def _units(line: ShipmentAdviceLine, position: int) -> int:
    quantity = line.quantity_shipped
    if quantity is None:
        raise X12ImportError("missing_quantity", f"W12 {position} has no quantity shipped.")
    if quantity < 0 or quantity != quantity.to_integral_value():
        raise X12ImportError(
            "invalid_quantity", f"W12 {position} ships {quantity}: not a whole number of units."
        )
    return int(quantity)


def _packages(
    advice: WarehouseShippingAdvice, contents: list[dict[int, int]], fallback: str
) -> list[Package]:
    carrier = (advice.carrier.scac if advice.carrier else None) or DEFAULT_CARRIER
    service = (advice.carrier.routing if advice.carrier else None) or ""
    shipped_lines = [
        (w12, content)
        for w12, content in zip(advice.lines, contents, strict=True)
        if any(content.values())
    ]
    if shipped_lines and all(w12.tracking_numbers for w12, _ in shipped_lines):
        # Every shipped line names its parcel: one package per tracking number, with its lines.
        parcels: dict[str, dict[int, int]] = {}
        for w12, content in shipped_lines:
            parcel = parcels.setdefault(w12.tracking_numbers[0], {})
            for pk, units in content.items():
                parcel[pk] = parcel.get(pk, 0) + units
        return [
            Package(carrier=carrier, tracking_number=number, service=service, lines=lines)
            for number, lines in parcels.items()
        ]
    numbers = advice.tracking_numbers or (advice.bill_of_lading or fallback,)
    return [Package(carrier=carrier, tracking_number=n, service=service) for n in numbers]


def _shipped_at(ship_date: dt.date | None, node: Node) -> dt.datetime:
    """Now when the 945 says today (or gives no date); noon at the node on an earlier date."""
    now = timezone.now()
    try:
        zone = zoneinfo.ZoneInfo(node.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    if ship_date is None or ship_date >= now.astimezone(zone).date():
        return now
    return dt.datetime.combine(ship_date, dt.time(12, 0), tzinfo=zone)
