"""A warehouse's stock report: the X12 846 Inventory Inquiry/Advice from a file node.

The file-node inbox (inbox.py) hands every 846 to `apply_inventory_advice` (registered for
ST01 846 when the app is ready; sets.py). One 846 is one full count of the node, applied as an
inventory snapshot feed (`inventory.services.feeds.apply_snapshot`, like `POST
/api/v1/inventory/snapshots/`): the node's on-hand becomes the warehouse's count, products of the
node it does not list count 0, each change is a ledger movement, and a count below what is
reserved opens an oversell. So a 3PL on X12 keeps oms's stock true the way an API node does.

- the node is the file's (the X12 node whose `receiver_id` is the ISA sender): an 846 from an
  unknown sender is refused `unknown_trading_partner`;
- each LIN names an item by any of its ids (LIN-02/03 ...): one that is an oms SKU (case and
  spaces aside), else one that is a product's UPC/GTIN (`Product.upc`), else its first SK/VN id
  as sent (the snapshot then refuses it `unknown_sku`, like the feed API);
- the count is the item's first QTY whose qualifier is in the node's `on_hand_qualifiers`
  connector setting (default 17 quantity on hand, then 33 available for sale), in eaches (EA, PC,
  UN or no unit; `unsupported_unit` else), a whole number >= 0 (`invalid_quantity`); an item
  without one is `no_on_hand_quantity`; two LINs of one SKU (lots, locations) add up;
- the count is as of BIA-04/05 (date and time, in the node's time zone), else now; a snapshot not
  newer than the node's last one is ignored (`ignored_stale`), as for the feed API;
- the message is `<ISA13>-<GS06>-<ST02>` from source `x12:<node>`: the same 846 twice has one
  effect. A refusal of the 846 itself (unreadable, a unit or quantity that cannot be counted) is
  kept as a failed InboundMessage of kind `x12.846` and the file goes to `failed/`; a refusal of
  the snapshot (an unknown SKU...) is kept by the feed as a failed `inventory.snapshot`, which
  a person re-processes from the console once the product exists.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.utils import timezone

from fulfillment.x12.results import AdviceResult
from fulfillment.x12.sets import InboundSet
from integrations.x12 import InventoryAdvice, X12Error, read_846
from integrations.x12.common import GTIN_QUALIFIERS, SKU_QUALIFIERS
from inventory.exceptions import MessageIdReused
from inventory.models import FeedStatus, Node, normalize_sku, normalize_upc
from inventory.selectors import products_by_sku, products_by_upc
from inventory.services.feeds import apply_snapshot
from oms.core.actors import Actor
from oms.core.errors import DomainError

KIND = "x12.846"  # an 846 refused before its counts could be applied
TRANSACTION_SET = "846"
ON_HAND_QUALIFIERS = ("17", "33")  # quantity on hand, quantity available for sale
EACH_UNITS = ("EA", "PC", "UN")


def stock_payload(advice: InventoryAdvice) -> dict[str, Any]:
    """What the log keeps of an 846 (JSON)."""
    return {
        "reference": advice.reference,
        "purpose": advice.purpose,
        "report_type": advice.report_type,
        "date": advice.date.isoformat() if advice.date else None,
        "time": advice.time,
        "items": [
            {
                "line_number": item.line_number,
                "item_ids": [[i.qualifier, i.value] for i in item.item_ids],
                "quantities": [
                    [q.qualifier, None if q.quantity is None else str(q.quantity), q.unit]
                    for q in item.quantities
                ],
            }
            for item in advice.items
        ],
    }


def counts_from_payload(
    payload: dict[str, Any], on_hand_qualifiers: tuple[str, ...] | list[str]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The count per SKU the logged 846 gives, and the problems, as (code, detail)."""
    items = payload.get("items") or []
    values = [value for item in items for _q, value in item.get("item_ids", [])]
    by_sku = products_by_sku(values)
    by_upc = products_by_upc(
        [v for item in items for q, v in item.get("item_ids", []) if q in GTIN_QUALIFIERS]
    )
    counts: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for position, item in enumerate(items, start=1):
        ids = [(q, v) for q, v in item.get("item_ids", [])]
        label = f"LIN {item.get('line_number') or position}"
        sku = _sku(ids, by_sku, by_upc)
        if sku is None:
            named = ", ".join(f"{q} {v}" for q, v in ids) or "no item id"
            problems.append(("unknown_item", f"{label} ({named}) names no item."))
            continue
        quantities = {q: (amount, unit) for q, amount, unit in reversed(item["quantities"])}
        qualifier = next((q for q in on_hand_qualifiers if q in quantities), None)
        if qualifier is None:
            problems.append(
                (
                    "no_on_hand_quantity",
                    f"{label} ({sku}) has no quantity on hand (QTY "
                    f"{' or '.join(on_hand_qualifiers)}).",
                )
            )
            continue
        amount, unit = quantities[qualifier]
        if (unit or "EA") not in EACH_UNITS:
            problems.append(("unsupported_unit", f"{label} ({sku}): unit {unit!r} is not each."))
            continue
        try:
            quantity = Decimal(str(amount))
        except InvalidOperation:
            quantity = Decimal(-1)
        if not quantity.is_finite() or quantity < 0 or quantity != quantity.to_integral_value():
            problems.append(
                ("invalid_quantity", f"{label} ({sku}): {amount} is not a whole unit count.")
            )
            continue
        counts[sku] = counts.get(sku, 0) + int(quantity)
    return counts, problems


def _sku(ids: list[tuple[str, str]], by_sku: dict[str, Any], by_upc: dict[str, Any]) -> str | None:
    for _qualifier, value in ids:
        if normalize_sku(value) in by_sku:
            return normalize_sku(value)
    for qualifier, value in ids:
        if qualifier in GTIN_QUALIFIERS and (code := normalize_upc(value)) in by_upc:
            return str(by_upc[code].sku)
    # Not an oms product: its own SKU as sent, for the snapshot to refuse `unknown_sku`.
    return next((normalize_sku(v) for q, v in ids if q in SKU_QUALIFIERS), None)


def as_of(payload: dict[str, Any], node: Node) -> dt.datetime:
    """BIA-04/05 in the node's time zone, else now."""
    if not payload.get("date"):
        return timezone.now()
    day = dt.date.fromisoformat(payload["date"])
    digits = "".join(c for c in str(payload.get("time") or "") if c.isdigit())
    hour, minute, second = int(digits[0:2] or 0), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if hour > 23 or minute > 59 or second > 59:
        hour = minute = second = 0
    zone = zoneinfo.ZoneInfo(node.timezone or "UTC")
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)


def apply_inventory_advice(inbound: InboundSet) -> AdviceResult:
    """The inbox's handler for an 846 (sets.py): read, map, apply as a snapshot, or refuse."""
    node = inbound.node
    source = f"x12:{node.code}" if node else inbound.fallback_source

    def failed(payload: dict[str, Any], reference: str, code: str, detail: str) -> AdviceResult:
        return inbound.refuse(KIND, TRANSACTION_SET, source, payload, reference, code, detail)

    result = partial(inbound.result, TRANSACTION_SET)

    try:
        advice = read_846(inbound.ts)
    except X12Error as exc:
        return failed(inbound.envelope, "", exc.code, str(exc))
    payload = {**inbound.envelope, **stock_payload(advice)}
    if node is None:
        detail = "An 846 names no node: it must come from an X12 node's trading partner id."
        return failed(payload, advice.reference, "unknown_trading_partner", detail)
    qualifiers = (node.connector_settings or {}).get("on_hand_qualifiers") or ON_HAND_QUALIFIERS
    counts, problems = counts_from_payload(payload, list(qualifiers))
    if problems:
        detail = "; ".join(text for _, text in problems)
        return failed(payload, advice.reference, problems[0][0], detail)
    try:
        feed = apply_snapshot(
            node_code=node.code,
            as_of=as_of(payload, node),
            counts=counts,
            source=source,
            message_id=inbound.message_id,
            actor=Actor.system(source),
        )
    except MessageIdReused as exc:
        return result(advice.reference, "failed", exc.code, exc.detail)
    except DomainError as exc:  # kept by the feed as a failed inventory.snapshot
        details = [error.detail for error in exc.errors] or [exc.detail]
        code = exc.errors[0].code if exc.errors else exc.code
        return result(advice.reference, "failed", code, "; ".join(details))
    if feed.duplicate:
        return result(advice.reference, "duplicate")
    if feed.status == FeedStatus.IGNORED_STALE:
        return result(advice.reference, "ignored_stale", detail=feed.detail)
    return result(advice.reference, "counted")
