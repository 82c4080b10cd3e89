"""commercetools: `OrderCreated` messages in, deliveries with tracking out.

In: a Subscription message (`OrderCreated` with the order, `OrderStateChanged` to `Cancelled`)
posted by the project's relay (signed as channels/adapters/relay.py says; the message id is the
delivery id). Money is {centAmount, fractionDigits, currencyCode}; a line's tax is its
taxedPrice's gross minus net.

Out (HTTP API, Bearer token; base URL `https://api.<region>.commercetools.com/<project key>`):
- fulfill: GET orders/{id} (its current version), then POST orders/{id} with `addDelivery`
  (the shipped line items, a parcel with the tracking data) and `changeShipmentState` Shipped;
- refund: commercetools keeps money movements on the Payment, not the order. GET orders/{id}
  (its paymentInfo), GET payments/{id} (version and transactions), then POST payments/{id} with
  `addTransaction` of type `Refund`, state `Success` (oms made the refund), the amount in cents
  and `interactionId` `oms:<order number>:<payment transaction>`. A payment that already holds a
  transaction with that interactionId is left alone: a retry after a lost answer adds nothing.
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
    cents,
    load_json,
    parse_time,
    register_adapter,
    require_sku,
    resolve_sku,
)
from oms.core.money import minor_units
from orders.models import PaymentStatus

if TYPE_CHECKING:
    from channels.http import Client
    from channels.models import ChannelConnection, OutboundCall


def _amount(value: dict[str, Any] | None, currency: str) -> Decimal:
    if not value:
        return Decimal("0")
    amount, code = cents(value)
    if code != currency:
        raise MappingError("mixed_currencies", f"An amount in {code} on a {currency} order.")
    return amount


class Commercetools(Adapter):
    platform = "commercetools"
    actions = frozenset({"fulfill", "refund"})
    ping_path = ""

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        return relay.verify(raw, headers, secret)

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        body = load_json(raw)
        if not isinstance(body, dict):
            raise PayloadInvalid("A commercetools message is a JSON object.")
        delivery = str(body.get("id") or relay.delivery_id(raw, headers))
        kind = body.get("type")
        if kind == "OrderCreated" and isinstance(body.get("order"), dict):
            order = body["order"]
            return [Notice(Topic.ORDER, delivery, str(order.get("id") or ""), order)]
        if kind == "OrderStateChanged" and body.get("orderState") == "Cancelled":
            order_id = str((body.get("resource") or {}).get("id") or "")
            return [Notice(Topic.CANCELLED, delivery, order_id, body)]
        return [Notice(Topic.IGNORED, delivery, "")]

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        total = payload.get("totalPrice") or {}
        currency = str(total.get("currencyCode") or "").upper()
        items = payload.get("lineItems") or []
        if not items:
            raise MappingError("no_lines", "The commercetools order has no line items.")
        lines = []
        for index, item in enumerate(items):
            variant = item.get("variant") or {}
            sku = resolve_sku(settings, variant.get("sku"), item.get("productId"))
            require_sku(sku, f"lineItems[{index}]", f"product {item.get('productId')}")
            quantity = int(item.get("quantity") or 0)
            unit = _amount((item.get("price") or {}).get("value"), currency)
            line_total = _amount(item.get("totalPrice"), currency)
            taxed = item.get("taxedPrice") or {}
            tax = (
                _amount(taxed.get("totalGross"), currency)
                - _amount(taxed.get("totalNet"), currency)
                if taxed
                else Decimal("0")
            )
            lines.append(
                LineInput(
                    sku=sku,
                    quantity=quantity,
                    unit_price=unit,
                    discount=max(unit * quantity - line_total, Decimal("0")),
                    tax=tax,
                    external_line_id=str(item.get("id") or ""),
                )
            )
        ship = payload.get("shippingAddress") or {}
        name = " ".join(filter(None, [ship.get("firstName"), ship.get("lastName")]))
        street = " ".join(filter(None, [ship.get("streetName"), ship.get("streetNumber")]))
        shipping = (payload.get("shippingInfo") or {}).get("price")
        return OrderInput(
            external_id=str(payload["id"]),
            placed_at=parse_time(payload.get("createdAt")),
            currency=currency,
            customer_name=name or str(payload.get("customerEmail") or ""),
            customer_email=str(payload.get("customerEmail") or ""),
            customer_phone=str(ship.get("phone") or "")[:40],
            lines=lines,
            shipping_address=address(
                name=name,
                line1=street,
                line2=str(ship.get("additionalStreetInfo") or ""),
                city=ship.get("city") or "",
                region=ship.get("state") or ship.get("region") or "",
                postal_code=ship.get("postalCode") or "",
                country=ship.get("country") or "",
            ),
            shipping_total=_amount(shipping, currency),
            payment_status=PaymentStatus.PENDING,
            payment_reference=str(payload.get("orderNumber") or "")[:100],
        )

    def auth_headers(self, connection: "ChannelConnection") -> dict[str, str]:
        return {"authorization": f"Bearer {connection.credentials}"}

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        if call.action == "refund":
            return self._refund(client, call)
        if call.action != "fulfill":
            raise CallFailed(f"commercetools has no action {call.action}", retryable=False)
        order_id = call.payload["external_id"]
        version = client.request("GET", f"orders/{order_id}").json().get("version")
        actions: list[dict[str, Any]] = [
            {
                "action": "addDelivery",
                "items": [
                    {"id": x["external_line_id"], "quantity": x["quantity"]}
                    for x in call.payload["lines"]
                ],
                "parcels": [
                    {
                        "trackingData": {
                            "trackingId": p.get("tracking_number", ""),
                            "carrier": p.get("carrier", ""),
                        }
                    }
                    for p in call.payload.get("packages", [])
                ],
            },
            {"action": "changeShipmentState", "shipmentState": "Shipped"},
        ]
        updated = client.request(
            "POST", f"orders/{order_id}", json_body={"version": version, "actions": actions}
        ).json()
        return {"version": updated.get("version")}

    def _refund(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        payload = call.payload
        order = client.request("GET", f"orders/{payload['external_id']}").json()
        payments = (order.get("paymentInfo") or {}).get("payments") or []
        if not payments:
            raise CallFailed(
                "The commercetools order has no payment to add the refund to", retryable=False
            )
        payment_id = payments[-1]["id"]
        payment = client.request("GET", f"payments/{payment_id}").json()
        interaction = f"oms:{payload.get('order', '')}:{payload.get('transaction', call.pk)}"
        for tx in payment.get("transactions") or []:
            if tx.get("interactionId") == interaction:
                return {"payment": payment_id, "transaction": tx.get("id"), "already": True}
        currency = str(payload["currency"])
        cent_amount = Decimal(str(payload["amount"])).scaleb(minor_units(currency))
        if cent_amount != cent_amount.to_integral_value():
            raise CallFailed(f"{payload['amount']} is not a {currency} amount", retryable=False)
        transaction = {
            "type": "Refund",
            "amount": {
                "type": "centPrecision",
                "currencyCode": currency,
                "centAmount": int(cent_amount),
                "fractionDigits": minor_units(currency),
            },
            "state": "Success",
            "interactionId": interaction,
        }
        updated = client.request(
            "POST",
            f"payments/{payment_id}",
            json_body={
                "version": payment.get("version"),
                "actions": [{"action": "addTransaction", "transaction": transaction}],
            },
        ).json()
        added = [
            tx for tx in updated.get("transactions") or [] if tx.get("interactionId") == interaction
        ]
        return {
            "payment": payment_id,
            "version": updated.get("version"),
            "transaction": added[-1].get("id") if added else None,
        }


register_adapter(Commercetools())
