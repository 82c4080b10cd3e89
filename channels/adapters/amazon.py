"""Amazon Selling Partner API: orders polled (and re-read on ORDER_CHANGE), shipments confirmed.

Auth: Login with Amazon. The channel's credentials are JSON {"client_id", "client_secret",
"refresh_token"}; each run trades the refresh token for an access token at the LWA endpoint
(settings `lwa_endpoint`, default https://api.amazon.com/auth/o2/token) and sends it as
x-amz-access-token. The base URL is the regional SP-API endpoint
(https://sellingpartnerapi-na.amazon.com).

In:
- polling (beat, channels.tasks.poll_channels_task): GET orders/v0/orders with
  LastUpdatedAfter = the stored cursor and the channel's marketplace ids (NextToken pages),
  GET orders/v0/orders/{id}/orderItems per order, and GET .../address when the app's role allows
  it (settings `fetch_address`); the cursor moves to the newest LastUpdateDate seen. Each order
  is logged under `poll:<order id>:<LastUpdateDate>`, so a re-poll is a duplicate.
- ORDER_CHANGE notifications (relayed, signed as channels/adapters/relay.py says) name an
  order: it is read again (the same three calls) and applied: captured when new, cancelled
  when Amazon says Canceled.

Money: ItemPrice is the line's price for its whole quantity; the unit price is ItemPrice /
QuantityOrdered (refused when that is not whole minor units), PromotionDiscount the discount,
ItemTax the tax; ShippingPrice − ShippingDiscount is the shipping total, ShippingTax its tax.

Out: fulfill → POST orders/v0/orders/{id}/shipmentConfirmation (carrier, tracking number, ship
date, order items by OrderItemId).
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

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

LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
MAX_PAGES = 10


def _amount(value: dict[str, Any] | None, currency: str) -> Decimal:
    return money((value or {}).get("Amount"), currency) if value else Decimal("0")


class Amazon(Adapter):
    platform = "amazon"
    actions = frozenset({"fulfill"})
    ping_path = "sellers/v1/marketplaceParticipations"

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        return relay.verify(raw, headers, secret)

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        body = load_json(raw)
        notifications = body if isinstance(body, list) else [body]
        result = []
        for note in notifications:
            if not isinstance(note, dict):
                raise PayloadInvalid("An SP-API notification is a JSON object.")
            meta = note.get("NotificationMetadata") or {}
            delivery = str(meta.get("NotificationId") or relay.delivery_id(raw, headers))
            change = (note.get("Payload") or {}).get("OrderChangeNotification") or {}
            if note.get("NotificationType") == "ORDER_CHANGE" and change.get("AmazonOrderId"):
                result.append(Notice(Topic.REFETCH, delivery, str(change["AmazonOrderId"]), note))
            else:
                result.append(Notice(Topic.IGNORED, delivery, ""))
        return result

    def is_cancelled(self, payload: dict[str, Any]) -> bool:
        return (payload.get("order") or {}).get("OrderStatus") == "Canceled"

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        order = payload.get("order") or {}
        items = payload.get("items") or []
        if not items:
            raise MappingError("no_lines", "The Amazon order has no order items.")
        currency = str(
            (order.get("OrderTotal") or {}).get("CurrencyCode")
            or (items[0].get("ItemPrice") or {}).get("CurrencyCode")
            or ""
        ).upper()
        lines = []
        shipping = shipping_tax = Decimal("0")
        for index, item in enumerate(items):
            sku = resolve_sku(settings, item.get("SellerSKU"), item.get("ASIN"))
            require_sku(sku, f"OrderItems[{index}]", f"ASIN {item.get('ASIN')}")
            quantity = int(item.get("QuantityOrdered") or 0)
            price = _amount(item.get("ItemPrice"), currency)
            lines.append(
                LineInput(
                    sku=sku,
                    quantity=quantity,
                    unit_price=money(price / quantity if quantity else price, currency),
                    discount=_amount(item.get("PromotionDiscount"), currency),
                    tax=_amount(item.get("ItemTax"), currency),
                    external_line_id=str(item.get("OrderItemId") or ""),
                )
            )
            shipping += _amount(item.get("ShippingPrice"), currency) - _amount(
                item.get("ShippingDiscount"), currency
            )
            shipping_tax += _amount(item.get("ShippingTax"), currency)
        ship = payload.get("address") or order.get("ShippingAddress") or {}
        buyer = order.get("BuyerInfo") or {}
        name = str(ship.get("Name") or buyer.get("BuyerName") or "")
        return OrderInput(
            external_id=str(order.get("AmazonOrderId") or ""),
            placed_at=parse_time(order.get("PurchaseDate")),
            currency=currency,
            customer_name=name or str(buyer.get("BuyerEmail") or "Amazon customer"),
            customer_email=str(buyer.get("BuyerEmail") or ""),
            customer_phone=str(ship.get("Phone") or "")[:40],
            lines=lines,
            shipping_address=address(
                name=name,
                line1=ship.get("AddressLine1") or "",
                line2=" ".join(filter(None, [ship.get("AddressLine2"), ship.get("AddressLine3")])),
                city=ship.get("City") or "",
                region=ship.get("StateOrRegion") or "",
                postal_code=ship.get("PostalCode") or "",
                country=ship.get("CountryCode") or "",
            ),
            shipping_total=shipping,
            shipping_tax=shipping_tax,
            # Amazon collects the payment; it is Amazon's once the order is no longer Pending.
            payment_status=PaymentStatus.PENDING
            if order.get("OrderStatus") == "Pending"
            else PaymentStatus.PAID,
            payment_method=str(order.get("PaymentMethod") or "")[:50],
            payment_reference=str(buyer.get("PurchaseOrderNumber") or "")[:100],
        )

    def authenticate(self, client: "Client", connection: "ChannelConnection") -> None:
        try:
            lwa = json.loads(connection.credentials or "{}")
        except ValueError:
            raise CallFailed("the Amazon credentials are not JSON", retryable=False) from None
        form = urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": lwa.get("refresh_token", ""),
                "client_id": lwa.get("client_id", ""),
                "client_secret": lwa.get("client_secret", ""),
            }
        ).encode()
        token = client.request(
            "POST",
            "",
            url=connection.settings.get("lwa_endpoint") or LWA_ENDPOINT,
            body=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        ).json()
        if not token.get("access_token"):
            raise CallFailed("the LWA endpoint gave no access token", retryable=False)
        client.headers = {"x-amz-access-token": token["access_token"]}

    def fetch_order(
        self, client: "Client", connection: "ChannelConnection", external_id: str
    ) -> dict[str, Any]:
        order = client.request("GET", f"orders/v0/orders/{external_id}").json().get("payload", {})
        return self._with_items(client, connection, order)

    def _with_items(
        self, client: "Client", connection: "ChannelConnection", order: dict[str, Any]
    ) -> dict[str, Any]:
        order_id = order.get("AmazonOrderId", "")
        items: list[dict[str, Any]] = []
        token = ""
        for _ in range(MAX_PAGES):
            query = {"NextToken": token} if token else None
            page = client.request("GET", f"orders/v0/orders/{order_id}/orderItems", query=query)
            payload = page.json().get("payload", {})
            items.extend(payload.get("OrderItems", []))
            token = payload.get("NextToken") or ""
            if not token:
                break
        result: dict[str, Any] = {"order": order, "items": items}
        if connection.settings.get("fetch_address"):
            found = client.request("GET", f"orders/v0/orders/{order_id}/address").json()
            result["address"] = (found.get("payload") or {}).get("ShippingAddress") or {}
        return result

    def poll(self, client: "Client", connection: "ChannelConnection") -> tuple[list[Notice], str]:
        since = connection.cursor or (datetime.now(UTC) - timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        marketplaces = ",".join(connection.settings.get("marketplace_ids") or ["ATVPDKIKX0DER"])
        notices, cursor, token = [], since, ""
        for _ in range(MAX_PAGES):
            query = (
                {"NextToken": token, "MarketplaceIds": marketplaces}
                if token
                else {"MarketplaceIds": marketplaces, "LastUpdatedAfter": since}
            )
            payload = (
                client.request("GET", "orders/v0/orders", query=query).json().get("payload", {})
            )
            for order in payload.get("Orders", []):
                updated = str(order.get("LastUpdateDate") or order.get("PurchaseDate") or "")
                full = self._with_items(client, connection, order)
                order_id = str(order.get("AmazonOrderId"))
                notices.append(Notice(Topic.ORDER, f"poll:{order_id}:{updated}", order_id, full))
                cursor = max(cursor, updated)
            token = payload.get("NextToken") or ""
            if not token:
                break
        return notices, cursor

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        if call.action != "fulfill":
            raise CallFailed(f"Amazon has no action {call.action}", retryable=False)
        order_id = call.payload["external_id"]
        package = (call.payload.get("packages") or [{}])[0]
        body = {
            "marketplaceId": call.connection.settings.get("marketplace_ids", ["ATVPDKIKX0DER"])[0],
            "packageDetail": {
                "packageReferenceId": call.payload.get("fulfillment", ""),
                "carrierCode": package.get("carrier", ""),
                "trackingNumber": package.get("tracking_number", ""),
                "shipDate": call.payload.get("shipped_at", ""),
                "orderItems": [
                    {"orderItemId": x["external_line_id"], "quantity": x["quantity"]}
                    for x in call.payload["lines"]
                ],
            },
        }
        client.request("POST", f"orders/v0/orders/{order_id}/shipmentConfirmation", json_body=body)
        return {"confirmed": True}


register_adapter(Amazon())
