"""A parsed 945 Warehouse Shipping Advice → the calls that apply it. Pure: no database, no files,
no clock (the caller passes the fulfillment order's lines and `now`).

    map_advice(advice, lines, ...)      → AdvicePlan: reject, or ship these units in these parcels
    advice_payload(advice)              the advice as JSON, for the inbound message log
    advice_from_payload(payload)        and back, to apply a logged advice again

- each W12 is matched to the fulfillment order's lines by SKU (SK/VN/VC/VP item id, then any
  item id), else by an item id that is the UPC/GTIN of a line's product; W12-03 is the
  quantity shipped; a line shipped short (or not listed) is a short shipment, rerouted like a
  short pick; nothing shipped at all is a rejection;
- carrier = W27-02 (SCAC, else "X12"), tracking numbers = the advice's N9 2I/CN/08 and MAN CP,
  else its bill of lading, else the fallback (`<file>-<index>`); ship date = W06-03 (else G62 11).
"""

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fulfillment.services.shipping import Package
from fulfillment.x12.results import X12ImportError
from integrations.x12 import (
    Carrier,
    ItemId,
    Reference,
    ShipmentAdviceLine,
    WarehouseShippingAdvice,
)
from inventory.models import normalize_sku, normalize_upc

SHORT_REASON = "short shipped (945)"
REJECT_REASON = "warehouse shipped nothing (945)"
DEFAULT_CARRIER = "X12"
TRACKING_QUALIFIER = "2I"  # N9 2I: tracking number
BILL_OF_LADING_QUALIFIER = "BM"


@dataclass(frozen=True)
class LineToShip:
    """A fulfillment order line as the mapping sees it."""

    id: int
    sku: str
    quantity: int
    upc: str = ""  # the product's UPC/GTIN (canonical), when it has one


@dataclass(frozen=True)
class AdvicePlan:
    """What applying the advice does: reject_fulfillment(reason=REJECT_REASON) when nothing
    shipped, else ship_fulfillment(shipped, packages, shipped_at, short_reason=SHORT_REASON)."""

    shipped: dict[int, int]  # every fulfillment line id → units shipped (0 when not listed)
    packages: list[Package]
    shipped_at: dt.datetime
    short: bool  # some line ships fewer units than it asks for

    @property
    def rejects(self) -> bool:
        return not any(self.shipped.values())


def map_advice(
    advice: WarehouseShippingAdvice,
    lines: Sequence[LineToShip],
    *,
    number: str,
    node_timezone: str,
    fallback_tracking: str,
    now: dt.datetime,
) -> AdvicePlan:
    """The plan for fulfillment order `number` (its `lines`, by id) at a node in
    `node_timezone`. Raises X12ImportError for a W12 that cannot be matched or counted."""
    shipped, packages = plan_shipment(advice, lines, number, fallback_tracking)
    return AdvicePlan(
        shipped=shipped,
        packages=packages,
        shipped_at=shipped_at(advice.ship_date, node_timezone, now),
        short=any(shipped.get(line.id, 0) < line.quantity for line in lines),
    )


def plan_shipment(
    advice: WarehouseShippingAdvice,
    lines: Sequence[LineToShip],
    number: str,
    fallback_tracking: str,
) -> tuple[dict[int, int], list[Package]]:
    """(fulfillment line id → units shipped, the packages) for ship_fulfillment().
    Raises X12ImportError for a W12 that cannot be matched or counted."""
    by_sku: dict[str, list[LineToShip]] = defaultdict(list)
    sku_of_upc: dict[str, str] = {}
    for line in lines:
        by_sku[normalize_sku(line.sku)].append(line)
        if line.upc:
            sku_of_upc[line.upc] = normalize_sku(line.sku)
    if not advice.lines:
        raise X12ImportError("no_lines", f"The 945 for {number} has no W12 line.")
    shipped = {line.id: 0 for line in lines}
    contents: list[dict[int, int]] = []  # per W12: fulfillment line id → units
    for position, w12 in enumerate(advice.lines, start=1):
        sku = _matching_sku(w12, by_sku, sku_of_upc)
        if sku is None:
            ids = ", ".join(f"{i.qualifier} {i.value}" for i in w12.item_ids) or "no item id"
            raise X12ImportError(
                "unknown_item",
                f"W12 {position} ({ids}) is not on fulfillment {number}.",
            )
        units = _units(w12, position)
        content: dict[int, int] = {}
        for line in by_sku[sku]:
            take = min(units, line.quantity - shipped[line.id])
            if take > 0:
                shipped[line.id] += take
                content[line.id] = take
                units -= take
        if units:
            raise X12ImportError(
                "quantity_exceeds_order",
                f"W12 {position} ships more {sku} than fulfillment {number} asks for.",
            )
        contents.append(content)
    return shipped, _packages(advice, contents, fallback_tracking)


def _matching_sku(
    line: ShipmentAdviceLine, by_sku: dict[str, list[Any]], sku_of_upc: dict[str, str]
) -> str | None:
    """The SKU a W12 names: one of its ids that is a line's SKU, else one that is the UPC/GTIN
    of a line's product (a warehouse that scans barcodes answers with them: UP/EN/UK ids)."""
    candidates = [line.sku, *(i.value for i in line.item_ids)]
    for candidate in candidates:
        if candidate and normalize_sku(candidate) in by_sku:
            return normalize_sku(candidate)
    for candidate in candidates:
        code = normalize_upc(candidate)
        if code in sku_of_upc:
            return sku_of_upc[code]
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


def shipped_at(ship_date: dt.date | None, node_timezone: str, now: dt.datetime) -> dt.datetime:
    """`now` when the 945 says today (or gives no date); noon at the node on an earlier date."""
    try:
        zone = zoneinfo.ZoneInfo(node_timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    if ship_date is None or ship_date >= now.astimezone(zone).date():
        return now
    return dt.datetime.combine(ship_date, dt.time(12, 0), tzinfo=zone)


# -- the advice as JSON (the inbound message log) ------------------------------------------------


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
