"""X12 file connector: a fulfillment order goes to the node as a 940 Warehouse Shipping Order
file in `<OMS_X12_OUTBOX_DIR>/<node code>/<fulfillment number>.edi`; the warehouse answers with
945 files dropped in `OMS_X12_INBOX_DIR` (fulfillment/x12/inbox.py reads them).

Node settings (`Node.connector_settings`), all optional:
    {"sender_id": "OMS", "receiver_id": "<NODE CODE>", "version": "004010",
     "item_qualifier": "SK" | "VN", "cancel_status": "F", "change_status": "R"}

A cancel request is a 940 for the same depositor order number with W05-01 `cancel_status`
(partner specific; F by default) listing the units asked back, in
`<fulfillment number>-cancel-<request id>.edi`; an address change is a 940 with W05-01
`change_status` (R, reissue) and the new ship-to. The warehouse answers through the node API
(confirm-request / refuse-request), or a 945 that ships the units (the cancel is then refused
`already_shipped`).

`send()` is idempotent: the control number comes from the fulfillment id and the ISA/GS date
from the order's placed_at, so sending the same fulfillment order again writes the same bytes.
The file is written to a hidden temporary file in the same folder and renamed over the final
name, so the warehouse never picks up half a file. A file-system error is retryable
(ConnectorUnavailable); data X12 cannot carry (a 16-character partner id...) is terminal
(ConnectorRefused).
"""

import dataclasses
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

from fulfillment.connectors.base import (
    ConnectorRefused,
    ConnectorUnavailable,
    NodeRequestPayload,
    ReleaseAck,
    ReleasePayload,
    register_connector,
)
from integrations.x12 import (
    ItemId,
    Party,
    ShippingOrderLine,
    WarehouseShippingOrder,
    X12Error,
    write_940,
)
from inventory.models import normalize_sku
from inventory.selectors import products_by_sku

DEFAULT_SENDER_ID = "OMS"
DEFAULT_VERSION = "004010"
ITEM_QUALIFIERS = ("SK", "VN")  # W01-04: SK stock keeping unit, VN vendor's item number
MAX_CONTROL_NUMBER = 999_999_999  # ISA13 is 9 digits
# Requests take control numbers from the upper half, releases (fulfillment ids) the lower.
REQUEST_CONTROL_OFFSET = 500_000_000
# X12 has no escaping: free text (names, addresses) loses the delimiters the writer uses.
_DELIMITERS = re.compile(r"[*>~^\r\n]+")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def control_number_for(fulfillment_id: int) -> int:
    """ISA13/GS06 of a fulfillment order's 940: its id, kept within 1..999999999."""
    return (fulfillment_id - 1) % MAX_CONTROL_NUMBER + 1


def partner_settings(node_code: str, settings: dict[str, Any]) -> dict[str, str]:
    return {
        "sender_id": str(settings.get("sender_id") or DEFAULT_SENDER_ID),
        "receiver_id": str(settings.get("receiver_id") or node_code.upper()),
        "version": str(settings.get("version") or DEFAULT_VERSION),
        "item_qualifier": str(settings.get("item_qualifier") or "SK").upper(),
    }


def file_name_for(number: str) -> str:
    return f"{_SAFE_NAME.sub('_', number)}.edi"


def outbox_folder(node_code: str) -> Path:
    return Path(django_settings.OMS_X12_OUTBOX_DIR) / _SAFE_NAME.sub("_", node_code)


def _text(value: str | None) -> str | None:
    cleaned = _DELIMITERS.sub(" ", value or "").strip()
    return cleaned or None


def gtin_item_id(code: str) -> ItemId:
    """A product's canonical UPC/GTIN as a W01 item id: UP for a UPC-A, EN for an EAN-13, UK
    for a GTIN-14."""
    return ItemId({12: "UP", 13: "EN"}.get(len(code), "UK"), code)


def build_940(
    payload: ReleasePayload, item_qualifier: str, upcs: Mapping[str, str] | None = None
) -> WarehouseShippingOrder:
    """ReleasePayload → the writer's 940: depositor order number = the fulfillment number (the
    945 comes back keyed on it), PO = the order number, N1 ST = where it goes. `upcs`: the
    products' UPC/GTIN by SKU, sent as a second item id of the line (W01-06/07) for a warehouse
    that scans barcodes."""
    upcs = upcs or {}
    ship_to = payload.ship_to
    party = Party(
        role="ST",
        name=_text(ship_to.get("name")) or _text(payload.customer_name),
        id_qualifier="92" if ship_to.get("pickup_node") else None,  # 92: assigned by buyer
        id=_text(ship_to.get("pickup_node")),
        address_lines=tuple(
            text for key in ("line1", "line2") if (text := _text(ship_to.get(key)))
        ),
        city=_text(ship_to.get("city")),
        state=_text(ship_to.get("region")),
        postal_code=_text(ship_to.get("postal_code")),
        country=_text(ship_to.get("country")),
    )
    return WarehouseShippingOrder(
        depositor_order_number=payload.number,
        purchase_order_number=payload.order_number,
        ship_to=party,
        lines=tuple(
            ShippingOrderLine(
                line_number=str(number),
                quantity=Decimal(line.quantity),
                unit="EA",
                item_ids=(
                    ItemId(item_qualifier, line.sku),
                    *(
                        (gtin_item_id(upcs[normalize_sku(line.sku)]),)
                        if upcs.get(normalize_sku(line.sku))
                        else ()
                    ),
                ),
                description=_text(line.name),
            )
            for number, line in enumerate(payload.lines, start=1)
        ),
    )


def render_940(payload: ReleasePayload, upcs: Mapping[str, str] | None = None) -> str:
    """The 940 text for a release; X12Error when something cannot be written."""
    partner = partner_settings(payload.node_code, payload.settings)
    if partner["item_qualifier"] not in ITEM_QUALIFIERS:
        raise X12Error(
            "invalid_value",
            f"item_qualifier {partner['item_qualifier']!r} must be one of {ITEM_QUALIFIERS}",
            None,
            "W01",
        )
    return write_940(
        build_940(payload, partner["item_qualifier"], upcs),
        sender_id=partner["sender_id"],
        receiver_id=partner["receiver_id"],
        control_number=control_number_for(payload.fulfillment_id),
        now=payload.placed_at.astimezone(UTC),  # deterministic: a re-send is byte-identical
        version=partner["version"],
    )


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to folder/name through a temporary file in the same folder + os.replace."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def product_upcs(release: ReleasePayload) -> dict[str, str]:
    """The UPC/GTIN of the release's products that have one, by (normalised) SKU."""
    products = products_by_sku([line.sku for line in release.lines])
    return {sku: product.upc for sku, product in products.items() if product.upc}


class X12FileConnector:
    pushes = True  # a 940 file written to the partner's outbox

    def send(self, payload: ReleasePayload) -> ReleaseAck:
        try:
            text = render_940(payload, product_upcs(payload))
        except X12Error as exc:
            raise ConnectorRefused(f"x12_{exc.code}", str(exc)) from None
        name = file_name_for(payload.number)
        try:
            write_atomically(outbox_folder(payload.node_code), name, text.encode("utf-8"))
        except OSError as exc:
            raise ConnectorUnavailable(
                f"Cannot write the 940 for {payload.number} to the X12 outbox: {exc}"
            ) from exc
        return ReleaseAck(reference=name)

    def after_release(self, fulfillment_id: int, settings: dict[str, Any]) -> None:
        return None  # the warehouse answers with a 945 file: nothing to schedule

    def send_request(self, payload: NodeRequestPayload) -> None:
        release = payload.fulfillment
        partner = partner_settings(release.node_code, release.settings)
        status_key = "cancel_status" if payload.kind == "cancel" else "change_status"
        status = str(release.settings.get(status_key) or ("F" if payload.kind == "cancel" else "R"))
        try:
            order = dataclasses.replace(
                build_940(release, partner["item_qualifier"], product_upcs(release)),
                order_status=status,
            )
            text = write_940(
                order,
                sender_id=partner["sender_id"],
                receiver_id=partner["receiver_id"],
                control_number=control_number_for(REQUEST_CONTROL_OFFSET + payload.request_id),
                now=release.placed_at.astimezone(UTC),
                version=partner["version"],
            )
        except X12Error as exc:
            raise ConnectorRefused(f"x12_{exc.code}", str(exc)) from None
        name = file_name_for(f"{release.number}-{payload.kind}-{payload.request_id}")
        try:
            write_atomically(outbox_folder(release.node_code), name, text.encode("utf-8"))
        except OSError as exc:
            raise ConnectorUnavailable(
                f"Cannot write the 940 request for {release.number} to the X12 outbox: {exc}"
            ) from exc


register_connector("x12_file", X12FileConnector())
