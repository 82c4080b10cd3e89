"""B2B EDI (X12): 850 purchase orders in from files, 997 / 855 / 856 files out.

Files, not webhooks: `manage.py import_edi --channel C FILE` (channels/services/edi.py) reads
an interchange with the X12 codec (integrations/x12), answers it with a 997, and applies each
850 as a notice, through `capture_order` like every channel. The 855 follows once the order is
routed; an 856 follows each shipment. Files are written to
OMS_X12_OUTBOX_DIR/channels/<channel code>/.

Trading-partner settings (the channel's settings):
    {"isa_id": "4405197800",        the partner's ISA06 (files from another sender are refused)
     "our_isa_id": "OMS",           our ISA/GS id in what we send (default: the channel code)
     "sku_xref": {"BP:A_QU001-BLK": "SKU-1", "UP:012345678905": "SKU-2"},   by qualifier:value
     "item_qualifiers": ["SK", "VN", "BP", "UP", "IN"],   which ids of a PO1 to try, in order
     "units": {"EA": 1, "CA": 12},  eaches per unit of measure (EA only by default)
     "reject_unknown_lines": false, accept the PO without lines we cannot map (rejected in the
                                    855) instead of refusing the whole PO
     "default_country": "US"}       when N4-04 is absent
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from channels.adapters.base import (
    Adapter,
    CallFailed,
    LineInput,
    MappingError,
    Notice,
    OrderInput,
    PayloadInvalid,
    address,
    money,
    register_adapter,
)
from integrations.x12.common import GTIN_QUALIFIERS, ItemId
from integrations.x12.write_ack import (
    LineAck,
    OrderAck,
    Shipment856,
    ShippedItem,
    write_855,
    write_856,
)
from inventory.models import normalize_upc
from inventory.selectors import products_by_sku, products_by_upc
from orders.models import LineStatus, Order, OrderStatus, PaymentStatus

if TYPE_CHECKING:
    from channels.http import Client
    from channels.models import ChannelConnection, OutboundCall

DEFAULT_QUALIFIERS = ["SK", "VN", "BP", "UP", "UK", "EN", "IN", "CB"]
ACCEPTED = {LineStatus.ALLOCATED, LineStatus.RELEASED, LineStatus.SHIPPED, LineStatus.DELIVERED}


def outbox(connection: "ChannelConnection") -> Path:
    folder = Path(django_settings.OMS_X12_OUTBOX_DIR) / "channels" / connection.code
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def next_control_number(connection: "ChannelConnection") -> int:
    """ISA13/GS06 of the next file to this partner: a counter in the connection's cursor."""
    from channels.models import ChannelConnection  # noqa: PLC0415 - models import the adapters' callers

    with transaction.atomic():
        locked = ChannelConnection.objects.select_for_update(of=("self",)).get(pk=connection.pk)
        number = (int(locked.cursor) if locked.cursor.isdigit() else 0) % 999_999_999 + 1
        locked.cursor = str(number)
        locked.save(update_fields=["cursor"])
    return number


def our_id(connection: "ChannelConnection") -> str:
    return str(connection.settings.get("our_isa_id") or connection.code.upper())[:15]


class X12(Adapter):
    platform = "x12"
    actions = frozenset({"acknowledge", "fulfill"})

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        return False  # EDI arrives in files (manage.py import_edi), never through a webhook

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        raise PayloadInvalid("X12 comes in files: manage.py import_edi.")

    def resolve(self, line: dict[str, Any], settings: dict[str, Any]) -> str:
        """The oms SKU of a PO1 line: a cross-reference hit (qualifier:value), else an id that
        is an oms SKU, in the partner's qualifier order; "" when none."""
        xref: dict[str, str] = settings.get("sku_xref") or {}
        ids = [tuple(pair) for pair in line.get("item_ids", [])]
        order = settings.get("item_qualifiers") or DEFAULT_QUALIFIERS
        ranked = sorted(ids, key=lambda p: order.index(p[0]) if p[0] in order else len(order))
        for qualifier, value in ranked:
            if f"{qualifier}:{value}" in xref:
                return xref[f"{qualifier}:{value}"]
        known = products_by_sku([value for _q, value in ranked])
        for _qualifier, value in ranked:
            product = known.get("".join(value.split()).upper())
            if product is not None:
                return product.sku
        # Then a package code (UP UPC, EN EAN, UK GTIN-14, UA...) that is a product's UPC/GTIN.
        by_upc = products_by_upc([value for q, value in ranked if q in GTIN_QUALIFIERS])
        for qualifier, value in ranked:
            code = normalize_upc(value) if qualifier in GTIN_QUALIFIERS else None
            if code in by_upc:
                return by_upc[code].sku
        return ""

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        currency = str(payload.get("currency") or settings.get("currency") or "USD").upper()
        units: dict[str, int] = settings.get("units") or {"EA": 1}
        lines = []
        for line in payload.get("lines", []):
            sku = self.resolve(line, settings)
            where = f"PO1 {line.get('line_id')}"
            if not sku:
                if settings.get("reject_unknown_lines"):
                    continue  # rejected in the 855
                ids = ", ".join(f"{q}:{v}" for q, v in line.get("item_ids", []))
                raise MappingError(
                    "unknown_sku", f"{where}: no SKU for {ids or 'a line without ids'}.", line=where
                )
            unit = str(line.get("unit") or "EA")
            if unit not in units:
                raise MappingError(
                    "unknown_unit",
                    f"{where}: unit {unit} is not in the partner's units.",
                    line=where,
                )
            each = Decimal(str(line.get("quantity") or 0)) * units[unit]
            if each != each.to_integral_value():
                raise MappingError("invalid_quantity", f"{where}: {each} is not whole eaches.")
            price = money(line.get("unit_price"), currency) / units[unit]
            lines.append(
                LineInput(
                    sku=sku,
                    quantity=int(each),
                    unit_price=money(price, currency),
                    external_line_id=str(line.get("line_id") or ""),
                )
            )
        if not lines:
            raise MappingError("no_lines", "The purchase order has no line oms can take.")
        ship = payload.get("ship_to") or {}
        buyer = payload.get("buyer") or {}
        street = ship.get("address_lines") or []
        name = ship.get("name") or buyer.get("name") or payload.get("sender_id") or ""
        return OrderInput(
            external_id=str(payload["number"]),
            placed_at=_placed(payload.get("date")),
            currency=currency,
            customer_name=str(name),
            lines=lines,
            shipping_address=address(
                name=str(ship.get("name") or name),
                line1=street[0] if street else "",
                line2=" ".join(street[1:]),
                city=ship.get("city") or "",
                region=ship.get("state") or "",
                postal_code=ship.get("postal_code") or "",
                country=ship.get("country") or settings.get("default_country") or "",
            ),
            payment_status=PaymentStatus.PENDING,
            payment_method="terms",
            payment_reference=str(payload["number"])[:100],
            notes=f"EDI 850 PO {payload['number']} from {payload.get('sender_id', '')}",
        )

    def on_captured(
        self, connection: "ChannelConnection", order: Order, payload: dict[str, Any]
    ) -> None:
        from channels.services.outbound import queue_call  # noqa: PLC0415 - outbound imports the adapters

        queue_call(
            connection=connection, order=order, action="acknowledge", payload={"po": payload}
        )

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        connection = call.connection
        order = Order.objects.get(pk=call.order_id)
        now = timezone.now()
        partner = str(connection.settings.get("isa_id") or "PARTNER")
        if call.action == "acknowledge":
            if order.status == OrderStatus.CREATED:
                raise CallFailed("the order is not routed yet: the 855 waits for routing")
            text = write_855(
                [self.order_ack(order, call.payload["po"])],
                sender_id=our_id(connection),
                receiver_id=partner,
                control_number=next_control_number(connection),
                now=now,
            )
            name = f"855-{order.external_id}-{call.pk}.edi"
        elif call.action == "fulfill":
            text = write_856(
                self.ship_notice(order, call.payload),
                sender_id=our_id(connection),
                receiver_id=partner,
                control_number=next_control_number(connection),
                now=now,
            )
            name = f"856-{call.payload['fulfillment']}-{call.pk}.edi"
        else:
            raise CallFailed(f"X12 has no action {call.action}", retryable=False)
        path = outbox(connection) / name
        path.write_text(text)
        return {"file": name}

    @staticmethod
    def order_ack(order: Order, po: dict[str, Any]) -> OrderAck:
        statuses = dict(order.lines.values_list("external_line_id", "status"))
        lines = []
        for line in po.get("lines", []):
            line_id = str(line.get("line_id") or "")
            status = statuses.get(line_id)
            code = (
                "IA" if status in ACCEPTED else "IB" if status == LineStatus.BACKORDERED else "IR"
            )
            quantity = Decimal(str(line.get("quantity") or 0))
            lines.append(
                LineAck(
                    line_id=line_id,
                    quantity=quantity,
                    unit=str(line.get("unit") or "EA"),
                    unit_price=Decimal(str(line["unit_price"])) if line.get("unit_price") else None,
                    item_ids=tuple(ItemId(q, v) for q, v in line.get("item_ids", [])),
                    status=code,
                    acknowledged_quantity=quantity if code != "IR" else Decimal(0),
                )
            )
        kind = "AC" if any(x.status != "IA" for x in lines) else "AD"
        return OrderAck(
            po_number=order.external_id,
            po_date=_date(po.get("date")),
            lines=tuple(lines),
            acknowledgment_type=kind,
            order_reference=order.number,
        )

    @staticmethod
    def ship_notice(order: Order, payload: dict[str, Any]) -> Shipment856:
        packages = payload.get("packages") or []
        return Shipment856(
            shipment_id=str(payload["fulfillment"]),
            shipped_at=dt.datetime.fromisoformat(payload["shipped_at"])
            if payload.get("shipped_at")
            else timezone.now(),
            po_number=order.external_id,
            carrier=str(packages[0].get("carrier", "")) if packages else "",
            tracking_numbers=tuple(
                p["tracking_number"] for p in packages if p.get("tracking_number")
            ),
            items=tuple(
                ShippedItem(
                    line_id=str(x["external_line_id"]),
                    item_ids=(ItemId("SK", x["sku"]),),
                    quantity=Decimal(x["quantity"]),
                    unit="EA",
                )
                for x in payload["lines"]
            ),
        )


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _placed(value: Any) -> dt.datetime:
    day = _date(value)
    if day is None:
        return timezone.now()
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


register_adapter(X12())
