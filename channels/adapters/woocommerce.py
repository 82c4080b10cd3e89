"""WooCommerce: order webhooks in, completion with a tracking note and refunds out.

In: `order.created` and `order.updated` webhooks (X-WC-Webhook-Topic), verified with
X-WC-Webhook-Signature (base64 HMAC-SHA256 of the raw body with the webhook's secret); the
delivery id is X-WC-Webhook-Delivery-ID. The body is the REST v3 order; the legacy wc-api v3
shape ({"order": {...}}) of older stores is read too. A line without a SKU is found by its
product or variation id in the channel's `sku_map`.

Out (REST v3, HTTP Basic with consumer_key:consumer_secret; base URL `.../wp-json/wc/v3`):
- fulfill: POST orders/{id}/notes (a customer note with carrier and tracking number), then
  PUT orders/{id} status `completed`;
- cancel: PUT orders/{id} status `cancelled`;
- refund: GET orders/{id}/refunds (the refund is made once: each carries the oms refund in
  its meta data), then POST orders/{id}/refunds with the amount. `api_refund` is true for an
  order that came in paid at the store (the store's gateway pays the customer back, ADR 14),
  false when oms's own provider paid it (the store only records it).
"""

import base64
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from channels.adapters.base import (
    Adapter,
    CallFailed,
    LineInput,
    MappingError,
    Notice,
    OrderInput,
    PayloadInvalid,
    Topic,
    address,
    load_json,
    money,
    parse_time,
    register_adapter,
    require_sku,
    resolve_sku,
)
from channels.adapters.common import body_digest, hmac_b64, refund_mark, same
from orders.models import PaymentStatus

if TYPE_CHECKING:
    from channels.http import Client
    from channels.models import ChannelConnection, OutboundCall

TOPICS = {"order.created": Topic.ORDER, "order.updated": Topic.ORDER, "order.restored": Topic.ORDER}
PAID = {"processing", "completed"}


class WooCommerce(Adapter):
    platform = "woocommerce"
    actions = frozenset({"fulfill", "cancel", "refund"})
    refunds_held_payments = True
    ping_path = "orders?per_page=1"

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        return same(headers.get("x-wc-webhook-signature"), hmac_b64(secret, raw))

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        topic = TOPICS.get(headers.get("x-wc-webhook-topic", ""), Topic.IGNORED)
        delivery = headers.get("x-wc-webhook-delivery-id") or body_digest(raw)
        if topic == Topic.IGNORED:  # the ping sent when a webhook is saved, other topics
            return [Notice(topic=Topic.IGNORED, delivery_id=delivery, external_id="")]
        body = load_json(raw)
        if not isinstance(body, dict):
            raise PayloadInvalid("A WooCommerce webhook body is a JSON object.")
        if isinstance(body.get("order"), dict):
            body = body["order"]
        if not body.get("id"):
            raise PayloadInvalid("The WooCommerce webhook names no order id.")
        return [
            Notice(topic=topic, delivery_id=delivery, external_id=str(body["id"]), payload=body)
        ]

    def is_cancelled(self, payload: dict[str, Any]) -> bool:
        return payload.get("status") in ("cancelled", "refunded", "failed")

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        legacy = "shipping_address" in payload or "total_shipping" in payload
        currency = str(payload.get("currency") or "").upper()
        items = payload.get("line_items") or []
        if not items:
            raise MappingError("no_lines", "The WooCommerce order has no line items.")
        lines = []
        for index, item in enumerate(items):
            sku = resolve_sku(
                settings, item.get("sku"), item.get("variation_id"), item.get("product_id")
            )
            where = f"line_items[{index}] ({item.get('name') or item.get('id')})"
            require_sku(sku, where, f"product {item.get('product_id')}")
            quantity = int(item.get("quantity") or 0)
            subtotal = money(item.get("subtotal"), currency)
            total = money(item.get("total"), currency)
            # the unit price before discounts: WooCommerce's `price` is a float (rounded)
            unit = subtotal / quantity if quantity > 0 else item.get("price")
            lines.append(
                LineInput(
                    sku=sku,
                    quantity=quantity,
                    unit_price=money(unit, currency),  # refused if not whole minor units
                    discount=max(subtotal - total, Decimal("0")),
                    tax=money(item.get("total_tax"), currency),
                    external_line_id=str(item.get("id") or ""),
                )
            )
        ship = payload.get("shipping_address" if legacy else "shipping") or {}
        bill = payload.get("billing_address" if legacy else "billing") or {}
        if not (ship.get("address_1") or ship.get("city")):
            ship = bill  # orders that only ask for a billing address ship there
        name = " ".join(filter(None, [ship.get("first_name"), ship.get("last_name")]))
        customer = (payload.get("customer") or {}) if legacy else {}
        email = bill.get("email") or customer.get("email") or ""
        status = str(payload.get("status") or "")
        return OrderInput(
            external_id=str(payload["id"]),
            placed_at=parse_time(
                payload.get("date_created_gmt")
                or payload.get("created_at")
                or payload.get("date_created")
            ),
            currency=currency,
            customer_name=name or email,
            customer_email=email,
            customer_phone=str(bill.get("phone") or "")[:40],
            lines=lines,
            shipping_address=address(
                name=name,
                line1=ship.get("address_1") or "",
                line2=ship.get("address_2") or "",
                city=ship.get("city") or "",
                region=ship.get("state") or "",
                postal_code=ship.get("postcode") or "",
                country=ship.get("country") or "",
            ),
            shipping_total=money(
                payload.get("total_shipping" if legacy else "shipping_total"), currency
            ),
            shipping_tax=money(payload.get("shipping_tax"), currency),
            payment_status=PaymentStatus.PAID if status in PAID else PaymentStatus.PENDING,
            payment_method=str(
                (payload.get("payment_details") or {}).get("method_id", "")
                if legacy
                else payload.get("payment_method") or ""
            )[:50],
            payment_reference=str(payload.get("transaction_id") or "")[:100],
            notes=str(payload.get("customer_note") or payload.get("note") or ""),
        )

    def auth_headers(self, connection: "ChannelConnection") -> dict[str, str]:
        token = base64.b64encode(connection.credentials.encode()).decode()
        return {"authorization": f"Basic {token}"}

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        order_id = call.payload["external_id"]
        if call.action == "fulfill":
            parcels = ", ".join(
                f"{p.get('carrier', '')} {p.get('tracking_number', '')}".strip()
                for p in call.payload.get("packages", [])
            )
            note = client.request(
                "POST",
                f"orders/{order_id}/notes",
                json_body={"note": f"Shipped: {parcels}", "customer_note": True},
            ).json()
            done = client.request(
                "PUT", f"orders/{order_id}", json_body={"status": "completed"}
            ).json()
            return {"note_id": note.get("id"), "status": done.get("status")}
        if call.action == "cancel":
            done = client.request(
                "PUT", f"orders/{order_id}", json_body={"status": "cancelled"}
            ).json()
            return {"status": done.get("status")}
        if call.action == "refund":
            return self._refund(client, call)
        raise CallFailed(f"WooCommerce has no action {call.action}", retryable=False)

    def _refund(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        """One refund per oms refund: named in the refund's meta data (`_oms_refund`), looked
        for before it is made, so a retry after a lost answer makes no second one (with
        `api_refund` on, a second one would pay the customer twice)."""
        order_id, payload = call.payload["external_id"], call.payload
        mark = refund_mark(call)
        listed = client.request("GET", f"orders/{order_id}/refunds").json()
        for known in listed if isinstance(listed, list) else []:
            if any(
                m.get("key") == REFUND_META and m.get("value") == mark
                for m in known.get("meta_data") or []
            ):
                return {"refund_id": known.get("id"), "already_there": True}
        platform_pays = bool(payload.get("platform_pays"))
        # the lines a return's refund gives back (their quantities; the money is the amount)
        lines = [
            {"id": int(line["external_line_id"]), "quantity": int(line["quantity"])}
            for line in payload.get("lines") or []
            if str(line.get("external_line_id") or "").isdigit()
        ]
        refund = client.request(
            "POST",
            f"orders/{order_id}/refunds",
            json_body={
                "amount": str(payload["amount"]),
                "reason": str(payload.get("reason", ""))[:200],
                # the store's payment gateway pays it back when the store holds the payment;
                # otherwise oms's provider paid it and the store only records it
                "api_refund": platform_pays,
                "meta_data": [{"key": REFUND_META, "value": mark}],
                **({"line_items": lines} if lines else {}),
            },
        ).json()
        return {"refund_id": refund.get("id"), "api_refund": platform_pays}


REFUND_META = "_oms_refund"


register_adapter(WooCommerce())
