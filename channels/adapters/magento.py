"""Magento 2 / Adobe Commerce: REST order JSON in, shipments with tracking out.

In: the REST `salesOrderRepositoryV1` order (GET /V1/orders/{id}) posted by the store's relay
(signed as channels/adapters/relay.py says). The order's `entity_id` is its id for calls back;
the customer-facing `increment_id` goes into the payment reference. Child items of configurable
products (`parent_item_id` set) are skipped: the parent line carries the SKU, price and
quantity. The shipping address is in extension_attributes.shipping_assignments.

Out (REST, Bearer integration token; base URL `.../rest/<store>/V1`):
- fulfill: POST order/{id}/ship with the shipped items (by order item id) and the tracks;
- cancel: POST orders/{id}/cancel;
- refund: POST order/{id}/refund (salesRefundOrderV1: an *offline* credit memo, so Magento
  records the refund oms already made and does not charge back through its gateway again).
  An oms refund is an amount, not lines: every order item goes with qty 0 (an empty `items`
  list would make Magento refund every item) and the amount is the memo's `adjustment_positive`,
  with `shipping_amount` 0. The memo's comment names the oms payment transaction.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from channels.adapters import relay
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
from orders.models import PaymentStatus

if TYPE_CHECKING:
    from channels.http import Client
    from channels.models import ChannelConnection, OutboundCall


class Magento(Adapter):
    platform = "magento"
    actions = frozenset({"fulfill", "cancel", "refund"})
    ping_path = "store/storeConfigs"

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        return relay.verify(raw, headers, secret)

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        body = load_json(raw)
        if not isinstance(body, dict) or not body.get("entity_id"):
            raise PayloadInvalid("A Magento order JSON object with its entity_id is expected.")
        return [
            Notice(
                topic=Topic.ORDER,
                delivery_id=relay.delivery_id(raw, headers),
                external_id=str(body["entity_id"]),
                payload=body,
            )
        ]

    def is_cancelled(self, payload: dict[str, Any]) -> bool:
        return payload.get("state") == "canceled" or payload.get("status") == "canceled"

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        currency = str(payload.get("order_currency_code") or "").upper()
        items = [i for i in payload.get("items") or [] if not i.get("parent_item_id")]
        if not items:
            raise MappingError("no_lines", "The Magento order has no items.")
        lines = []
        for index, item in enumerate(items):
            sku = resolve_sku(settings, item.get("sku"), item.get("product_id"))
            require_sku(
                sku, f"items[{index}] ({item.get('name')})", f"product {item.get('product_id')}"
            )
            lines.append(
                LineInput(
                    sku=sku,
                    quantity=int(Decimal(str(item.get("qty_ordered") or 0))),
                    unit_price=money(item.get("price"), currency),
                    discount=money(item.get("discount_amount"), currency),
                    tax=money(item.get("tax_amount"), currency),
                    external_line_id=str(item.get("item_id") or ""),
                )
            )
        assignments = (payload.get("extension_attributes") or {}).get("shipping_assignments") or []
        shipping = (assignments[0].get("shipping") or {}) if assignments else {}
        ship = shipping.get("address") or {}
        street = ship.get("street") or []
        name = " ".join(filter(None, [ship.get("firstname"), ship.get("lastname")])) or " ".join(
            filter(None, [payload.get("customer_firstname"), payload.get("customer_lastname")])
        )
        return OrderInput(
            external_id=str(payload["entity_id"]),
            placed_at=parse_time(payload.get("created_at")),
            currency=currency,
            customer_name=name or str(payload.get("customer_email") or ""),
            customer_email=str(payload.get("customer_email") or ""),
            customer_phone=str(ship.get("telephone") or "")[:40],
            lines=lines,
            shipping_address=address(
                name=name,
                line1=street[0] if street else "",
                line2=" ".join(street[1:]),
                city=ship.get("city") or "",
                region=ship.get("region_code") or ship.get("region") or "",
                postal_code=ship.get("postcode") or "",
                country=ship.get("country_id") or "",
            ),
            shipping_total=money(payload.get("shipping_amount"), currency),
            shipping_tax=money(payload.get("shipping_tax_amount"), currency),
            payment_status=PaymentStatus.PENDING,
            payment_method=str((payload.get("payment") or {}).get("method") or "")[:50],
            payment_reference=str(payload.get("increment_id") or "")[:100],
        )

    def auth_headers(self, connection: "ChannelConnection") -> dict[str, str]:
        return {"authorization": f"Bearer {connection.credentials}"}

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        order_id = call.payload["external_id"]
        if call.action == "fulfill":
            body = {
                "items": [
                    {"order_item_id": int(x["external_line_id"]), "qty": x["quantity"]}
                    for x in call.payload["lines"]
                    if x.get("external_line_id")
                ],
                "notify": True,
                "tracks": [
                    {
                        "track_number": p.get("tracking_number", ""),
                        "title": p.get("carrier", ""),
                        "carrier_code": (p.get("carrier") or "custom").lower(),
                    }
                    for p in call.payload.get("packages", [])
                ],
            }
            shipment_id = client.request("POST", f"order/{order_id}/ship", json_body=body).json()
            return {"shipment_id": shipment_id}
        if call.action == "cancel":
            client.request("POST", f"orders/{order_id}/cancel", json_body={})
            return {}
        if call.action == "refund":
            return self._refund(client, order_id, call.payload)
        raise CallFailed(f"Magento has no action {call.action}", retryable=False)

    def _refund(self, client: "Client", order_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        reason = str(payload.get("reason") or "")
        reference = f"oms refund {payload.get('transaction', '')}".strip()
        body = {
            "items": [
                {"order_item_id": int(line_id), "qty": 0}
                for line_id in payload.get("external_line_ids", [])
                if str(line_id).isdigit()
            ],
            "notify": True,
            "appendComment": True,
            "comment": {
                "comment": f"{reference}: {reason}"[:500] if reason else reference,
                "is_visible_on_front": 0,
            },
            "arguments": {
                "shipping_amount": 0,
                "adjustment_positive": str(payload["amount"]),
                "adjustment_negative": 0,
            },
        }
        if not body["items"]:
            raise CallFailed(
                "The order has no Magento item ids to list with qty 0 (an empty items list "
                "would refund every item)",
                retryable=False,
            )
        memo = client.request("POST", f"order/{order_id}/refund", json_body=body).json()
        return {"creditmemo_id": memo}


register_adapter(Magento())
