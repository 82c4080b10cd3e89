"""X12 test support shared by the connector and re-processing tests: the warehouse's side
(its 945 answers, written into the inbox)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from integrations.x12 import (
    Carrier,
    ItemId,
    Reference,
    ShipmentAdviceLine,
    WarehouseShippingAdvice,
    write_945,
)
from tests.corpus import corpus, needs

CORPUS = corpus("edi")
needs_corpus = needs("edi")
NODE_ZONE = ZoneInfo("America/New_York")  # NodeFactory's timezone
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TRACKING = "1Z999AA10123456784"


def outbox_file(x12_dirs, fo) -> Path:
    return x12_dirs.outbox / fo.node.code / f"{fo.number}.edi"


def yesterday_at_node() -> dt.date:
    return dt.datetime.now(NODE_ZONE).date() - dt.timedelta(days=1)


def advice_for(
    fo, *, shipped: dict[str, int] | None = None, **overrides
) -> WarehouseShippingAdvice:
    """What the warehouse answers: every line of the fulfillment order, shipped in full unless
    `shipped` (SKU → units) says otherwise."""
    shipped = shipped or {}
    lines = []
    for number, line in enumerate(fo.lines.select_related("order_line").order_by("id"), 1):
        sku = line.order_line.sku
        units = shipped.get(sku, line.quantity)
        lines.append(
            ShipmentAdviceLine(
                status="CC" if units == line.quantity else "CP",
                quantity_ordered=Decimal(line.quantity),
                quantity_shipped=Decimal(units),
                quantity_difference=Decimal(line.quantity - units),
                unit="EA",
                item_ids=(ItemId("SK", sku),),
                line_number=str(number),
            )
        )
    fields = {
        "reporting_code": "F",
        "depositor_order_number": fo.number,
        "purchase_order_number": fo.order.number,
        "ship_date": yesterday_at_node(),
        "shipment_id": f"SHP-{fo.pk}",
        "carrier": Carrier(transport_method="U", scac="UPSN", routing="UPS GROUND"),
        "references": (Reference("2I", TRACKING),),
        "lines": tuple(lines),
    }
    fields.update(overrides)
    return WarehouseShippingAdvice(**fields)


def drop_945(folder: Path, name: str, advice, *, control_number: int = 7001) -> Path:
    """The warehouse writes its 945 into the inbox."""
    path = folder / name
    text = write_945(
        advice, sender_id="DC-3PL", receiver_id="OMS", control_number=control_number, now=NOW
    )
    path.write_text(text)
    return path
