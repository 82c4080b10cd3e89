"""A return received at an X12 file node: the 944 Warehouse Stock Transfer Receipt Advice.

The file-node inbox (fulfillment/x12/inbox.py) hands every 944 to `apply_receipt_advice`
(registered for ST01 944 when the app is ready; fulfillment/x12/sets.py). One 944 is one
receipt, applied through `receive_return()` like a node API receipt:

- the return is the one whose number is W17-04 (the depositor order number: we send the RMA
  number there); the node is the file's (the X12 node whose partner id sent it), else the node
  the return is expected at; a return expected at another node is refused `wrong_node`;
- each W07 names an item of the return by any of its ids (W07-03 UPC case code, the qualified
  ids SK, VN, UP...), compared with the return lines' SKUs like a 945's W12 (case and spaces do
  not count), else with their products' UPC/GTIN (`Product.upc`, any of UPC-A, EAN-13, GTIN-14
  naming the same code); its W07-01
  units (each: EA, PC, UN or none) are counted against the lines of that SKU in order;
- a W07's W13s report units received damaged (a damage reason W13-05, or a receiving
  condition W13-03 in the node's `damaged_conditions` setting, default 01): they are kept on the
  return lines (`reported_damaged_quantity`, in `return.received`) and the inspection starts
  from them (the inspector still decides);
- the message is `<ISA13>-<GS06>-<ST02>` from source `x12:<node>`, logged as kind `x12.944`
  with the 944 as read, so the same 944 twice (a file imported again, or sent again) has one
  effect; the same id with other content is refused `message_id_reused`.

A 944 that cannot be applied (`unknown_return`, `unknown_item`, `invalid_quantity`,
`unsupported_unit`, `quantity_exceeds_return`, a return not receivable any more...) is kept as
a failed InboundMessage with that code, retried with backoff and re-processable from the log
(`reprocess_receipt`); the file goes to `failed/`. It never raises out of the inbox.
"""

from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NamedTuple

from fulfillment.x12.results import AdviceResult, X12ImportError
from fulfillment.x12.sets import InboundSet
from integrations.models import InboundMessage, InboundStatus
from integrations.services import fingerprint
from integrations.x12 import WarehouseReceiptAdvice, X12Error, read_944
from inventory.models import Node, normalize_sku, normalize_upc
from oms.core.actors import Actor
from oms.core.errors import DomainError
from returns.models import Return, ReturnLine
from returns.services.receipt import ReceiptMessage, receive_return_once

KIND = "x12.944"  # one 944 receipt advice in the inbound message log
TRANSACTION_SET = "944"
EACH_UNITS = ("EA", "PC", "UN")  # each, piece, unit; a case (CA) cannot be counted in units
# W13-03 receiving conditions read as damaged unless the node's connector settings say
# otherwise (`damaged_conditions`); a W13 with a damage reason (W13-05) is damaged anyway.
DAMAGED_CONDITIONS = ("01",)


class ReceiptRefused(X12ImportError):
    """A 944 that cannot be applied, with the source it is logged under and its RMA number."""

    def __init__(self, code: str, detail: str, *, source: str, number: str) -> None:
        super().__init__(code, detail)
        self.source = source
        self.number = number


# -- the 944 as logged --------------------------------------------------------------------------


def receipt_payload(advice: WarehouseReceiptAdvice) -> dict[str, Any]:
    """What the log keeps of a 944 (JSON): enough to apply it again without the file."""
    return {
        "return": advice.depositor_order_number or "",
        "receipt_number": advice.receipt_number,
        "reporting_code": advice.reporting_code,
        "received_on": advice.received_on.isoformat() if advice.received_on else None,
        "lines": [
            {
                "line_number": line.line_number,
                "quantity": str(line.quantity_received),
                "unit": line.unit,
                "upc_case_code": line.upc_case_code,
                "item_ids": [[item.qualifier, item.value] for item in line.item_ids],
                # W13, only when sent: a 944 without them logs (and fingerprints) as before
                **(
                    {
                        "exceptions": [
                            {
                                "quantity": None if e.quantity is None else str(e.quantity),
                                "unit": e.unit,
                                "condition": e.condition,
                                "damage_reason": e.damage_reason,
                            }
                            for e in line.exceptions
                        ]
                    }
                    if line.exceptions
                    else {}
                ),
            }
            for line in advice.lines
        ],
        "total_quantity_received": (
            str(advice.total_quantity_received)
            if advice.total_quantity_received is not None
            else None
        ),
    }


# -- W07 lines → units per return line ----------------------------------------------------------


class Receipt(NamedTuple):
    received: dict[int, int]  # units received per return line number
    damaged: dict[int, int]  # of those, units the node reported damaged (W13)
    problems: list[tuple[str, str]]  # (code, detail)


def damaged_units(line: dict[str, Any], damaged_conditions: Collection[str]) -> int:
    """The units of a logged W07 line its W13s report damaged: those with a damage reason
    (W13-05) or a receiving condition (W13-03) the node's partner settings call damaged."""
    total = Decimal(0)
    for exception in line.get("exceptions") or []:
        if exception.get("damage_reason") or exception.get("condition") in damaged_conditions:
            try:
                quantity = Decimal(str(exception.get("quantity")))
            except InvalidOperation:
                continue
            if quantity.is_finite() and quantity > 0:
                total += quantity
    return int(total)


def received_per_line(
    lines: list[dict[str, Any]],
    return_lines: list[tuple[int, str, int, str]],
    damaged_conditions: Collection[str] = DAMAGED_CONDITIONS,
) -> Receipt:
    """The units received per return line number, from the logged W07 lines and the return's
    (line number, SKU, quantity, product UPC or "") in line order; of those, the units its W13s
    report damaged (given to the same return lines as the W07's units, never more than they
    received); and the problems, as (code, detail)."""
    by_sku: dict[str, list[tuple[int, int]]] = defaultdict(list)
    sku_of_upc: dict[str, str] = {}
    for line_number, line_sku, line_quantity, line_upc in return_lines:
        by_sku[normalize_sku(line_sku)].append((line_number, line_quantity))
        if line_upc:
            sku_of_upc[line_upc] = normalize_sku(line_sku)
    received = {number: 0 for number, *_ in return_lines}
    damaged = {number: 0 for number, *_ in return_lines}
    problems: list[tuple[str, str]] = []
    for position, line in enumerate(lines, start=1):
        label = f"W07 {line.get('line_number') or position}"
        candidates = [line.get("upc_case_code"), *(value for _, value in line.get("item_ids", []))]
        sku = next((normalize_sku(c) for c in candidates if c and normalize_sku(c) in by_sku), None)
        if sku is None:
            sku = next(
                (sku_of_upc[code] for c in candidates if (code := normalize_upc(c)) in sku_of_upc),
                None,
            )
        if sku is None:
            named = ", ".join(c for c in candidates if c) or "no item id"
            problems.append(("unknown_item", f"{label} ({named}) is no item of the return."))
            continue
        if (line.get("unit") or "EA") not in EACH_UNITS:
            problems.append(
                ("unsupported_unit", f"{label}: unit {line['unit']!r} is not each (EA).")
            )
            continue
        try:
            quantity = Decimal(str(line.get("quantity")))
        except InvalidOperation:
            quantity = Decimal(-1)
        if not quantity.is_finite() or quantity < 0 or quantity != quantity.to_integral_value():
            problems.append(
                ("invalid_quantity", f"{label}: {line.get('quantity')} is not a whole unit count.")
            )
            continue
        units = int(quantity)
        broken = min(damaged_units(line, damaged_conditions), units)
        for number, expected in by_sku[sku]:
            take = min(units, expected - received[number])
            received[number] += take
            units -= take
            hurt = min(broken, take)
            damaged[number] += hurt
            broken -= hurt
        if units:
            expected_total = sum(expected for _, expected in by_sku[sku])
            problems.append(
                (
                    "quantity_exceeds_return",
                    f"{label} receives more {sku} than the return expects ({expected_total}).",
                )
            )
    return Receipt(received, {n: q for n, q in damaged.items() if q}, problems)


# -- apply --------------------------------------------------------------------------------------


def apply_receipt_advice(inbound: InboundSet) -> AdviceResult:
    """The inbox's handler for a 944 (fulfillment/x12/sets.py): read, apply, or keep refused."""

    failed = partial(inbound.refuse, KIND, TRANSACTION_SET)

    try:
        advice = read_944(inbound.ts)
    except X12Error as exc:
        return failed(inbound.fallback_source, inbound.envelope, "", exc.code, str(exc))
    payload = {**inbound.envelope, **receipt_payload(advice)}
    try:
        outcome = apply_receipt(
            payload,
            inbound.message_id,
            node=inbound.node,
            fallback_source=inbound.fallback_source,
        )
    except ReceiptRefused as exc:
        return failed(exc.source, payload, exc.number, exc.code, exc.detail)
    return inbound.result(TRANSACTION_SET, payload["return"], outcome)


def apply_receipt(
    payload: dict[str, Any],
    message_id: str,
    *,
    node: Node | None,
    fallback_source: str,
    source: str | None = None,
    actor: Actor | None = None,
) -> str:
    """Receive the return the logged 944 names, as message `message_id` from `source` (by
    default x12:<the node>): `received`, or `duplicate` when it was applied before. Raises
    ReceiptRefused when it cannot be applied."""
    number = payload.get("return") or ""
    rma = (
        Return.objects.select_related("return_node").filter(number=number).first()
        if number
        else None
    )
    node = node or (rma.return_node if rma is not None else None)
    source = source or (f"x12:{node.code}" if node else fallback_source)

    def refused(code: str, detail: str) -> ReceiptRefused:
        return ReceiptRefused(code, detail, source=source, number=number)

    if rma is None:
        raise refused(
            "unknown_return",
            f"No return {number!r} (W17-04)." if number else "The 944 has no RMA number (W17-04).",
        )
    if node is None:
        raise refused(
            "unknown_node",
            f"The file's sender is no X12 node and return {number} is expected at no node.",
        )
    if rma.return_node_id not in (None, node.pk) and rma.received_node_id != node.pk:
        raise refused(
            "wrong_node",
            f"Return {number} is expected at {rma.return_node.code if rma.return_node else '-'}, "
            f"not at {node.code}.",
        )
    first = (
        InboundMessage.objects.filter(
            source=source, message_id=message_id, status=InboundStatus.PROCESSED
        )
        .order_by()
        .first()
    )
    if first is not None:
        if (first.kind, first.subject, first.fingerprint) == (
            KIND,
            rma.number,
            fingerprint(payload),
        ):
            return "duplicate"
        raise refused(
            "message_id_reused",
            f"Message {message_id} from {source} was already received ({first.kind} of "
            f"{first.subject or '-'}) with other content; the warehouse reused a control number.",
        )
    return_lines = list(
        ReturnLine.objects.filter(rma=rma)
        .order_by("order_line__line_number", "id")
        .values_list(
            "order_line__line_number", "order_line__sku", "quantity", "order_line__product__upc"
        )
    )
    settings = node.connector_settings if node is not None else {}
    conditions = (settings or {}).get("damaged_conditions", DAMAGED_CONDITIONS)
    received, damaged, problems = received_per_line(
        payload.get("lines") or [], return_lines, conditions
    )
    if problems:
        raise refused(problems[0][0], "; ".join(detail for _, detail in problems))
    try:
        _, duplicate = receive_return_once(
            return_id=rma.pk,
            node_id=node.pk,
            actor=actor or Actor.system(f"x12:{node.code}"),
            received=received,
            damaged=damaged,
            message=ReceiptMessage(
                source=source, message_id=message_id, kind=KIND, payload=payload
            ),
        )
    except DomainError as exc:
        details = [error.detail for error in exc.errors] or [exc.detail]
        code = exc.errors[0].code if exc.errors else exc.code
        raise refused(code, "; ".join(details)) from exc
    # A duplicate here: the same 944 applied meanwhile by a concurrent import.
    return "duplicate" if duplicate else "received"


def reprocess_receipt(message: InboundMessage, actor: Actor) -> dict[str, Any]:
    """Apply a logged 944 again (integrations/inbound.py handler for `x12.944`)."""
    if "lines" not in message.payload:
        raise X12ImportError(
            "advice_unreadable",
            "This 944 could not be read, so there is nothing to apply again; ask the warehouse "
            "to send it again.",
        )
    node_code = message.source.removeprefix("x12:")
    node = Node.objects.filter(code=node_code).first() if ":" not in node_code else None
    outcome = apply_receipt(
        message.payload,
        message.message_id,
        node=node,
        fallback_source=message.source,
        source=message.source,
        actor=actor,
    )
    return {"outcome": outcome, "return": message.payload.get("return", "")}
