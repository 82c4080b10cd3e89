"""Shopify: order webhooks in, fulfillments with tracking, cancellations and refunds out.

In: `orders/create`, `orders/updated`, `orders/cancelled`, `refunds/create` webhooks, verified
with X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body with the app's secret). The
delivery id is X-Shopify-Webhook-Id. The body is the REST Admin order (or refund) resource.

Out (REST Admin API, X-Shopify-Access-Token; the channel's base URL ends in
`/admin/api/<version>`):
- fulfill: GET orders/{id}/fulfillment_orders.json, then POST fulfillments.json with the
  shipped lines by fulfillment order and the tracking info;
- tracking (a carrier's newer scan of a parcel already fulfilled): GET
  orders/{id}/fulfillments.json (the fulfillment by the id the fulfill call got back, else by
  tracking number), POST fulfillments/{fid}/update_tracking.json when Shopify holds another
  tracking number or company, then POST orders/{id}/fulfillments/{fid}/events.json with the
  scan as a fulfillment event, unless Shopify lists that event already (a retry after a lost
  answer adds no second one);
- cancel: POST orders/{id}/cancel.json;
- refund: GET orders/{id}/refunds.json (a refund whose note carries this oms refund's mark is
  there already: nothing more), GET orders/{id}/transactions.json (the capture or sale to
  refund against), then
  POST orders/{id}/refunds.json with one refund transaction, and the lines a return's refund
  gives back as `refund_line_items` (`no_restock`: oms keeps the stock).
"""

from datetime import datetime
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
    allocate,
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

TOPICS = {
    "orders/create": Topic.ORDER,
    "orders/updated": Topic.ORDER,
    "orders/cancelled": Topic.CANCELLED,
    "refunds/create": Topic.REFUND,
}
PAYMENT = {
    "authorized": PaymentStatus.AUTHORIZED,
    "paid": PaymentStatus.PAID,
    "partially_paid": PaymentStatus.AUTHORIZED,
}


def _sum(items: Any, key: str, currency: str) -> Decimal:
    return sum((money(i.get(key), currency) for i in items or []), Decimal("0"))


class Shopify(Adapter):
    platform = "shopify"
    actions = frozenset({"fulfill", "tracking", "cancel", "refund"})
    refunds_held_payments = True  # the refund is made against Shopify's own capture
    ping_path = "shop.json"

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        return same(headers.get("x-shopify-hmac-sha256"), hmac_b64(secret, raw))

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        topic = TOPICS.get(headers.get("x-shopify-topic", ""), Topic.IGNORED)
        body = load_json(raw)
        if not isinstance(body, dict):
            raise PayloadInvalid("A Shopify webhook body is a JSON object.")
        if isinstance(body.get("order"), dict):  # the REST resource wrapped, as GET returns it
            body = body["order"]
        if topic == Topic.REFUND:
            external_id = str(body.get("order_id") or "")
        else:
            external_id = str(body.get("id") or "")
        if topic != Topic.IGNORED and not external_id:
            raise PayloadInvalid("The Shopify webhook names no order id.")
        delivery = headers.get("x-shopify-webhook-id") or body_digest(raw)
        return [Notice(topic=topic, delivery_id=delivery, external_id=external_id, payload=body)]

    def is_cancelled(self, payload: dict[str, Any]) -> bool:
        return bool(payload.get("cancelled_at"))

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        currency = str(payload.get("currency") or "").upper()
        items = payload.get("line_items") or []
        if not items:
            raise MappingError("no_lines", "The Shopify order has no line items.")
        lines: list[LineInput] = []
        for index, item in enumerate(items):
            sku = resolve_sku(
                settings, item.get("sku"), item.get("variant_id"), item.get("product_id")
            )
            where = (
                f"line_items[{index}] ({item.get('name') or item.get('title') or item.get('id')})"
            )
            require_sku(sku, where, f"variant {item.get('variant_id')}")
            discount = money(item.get("total_discount"), currency)
            if not discount and item.get("discount_allocations"):
                discount = _sum(item["discount_allocations"], "amount", currency)
            lines.append(
                LineInput(
                    sku=sku,
                    quantity=int(item.get("quantity") or 0),
                    unit_price=money(item.get("price"), currency),
                    discount=discount,
                    tax=_sum(item.get("tax_lines"), "price", currency),
                    external_line_id=str(item.get("id") or ""),
                )
            )
        shipping_lines = payload.get("shipping_lines") or []
        shipping_tax = sum(
            (_sum(s.get("tax_lines"), "price", currency) for s in shipping_lines), Decimal("0")
        )
        lines = self._order_level_tax(payload, lines, currency, shipping_tax)
        ship = payload.get("shipping_address") or {}
        customer = payload.get("customer") or {}
        name = (
            ship.get("name")
            or " ".join(filter(None, [customer.get("first_name"), customer.get("last_name")]))
            or (payload.get("billing_address") or {}).get("name")
            or payload.get("email")
            or ""
        )
        return OrderInput(
            external_id=str(payload["id"]),
            placed_at=parse_time(payload.get("created_at")),
            currency=currency,
            customer_name=name,
            customer_email=payload.get("email") or payload.get("contact_email") or "",
            customer_phone=(payload.get("phone") or ship.get("phone") or "")[:40],
            lines=lines,
            shipping_address=address(
                name=ship.get("name") or name,
                line1=ship.get("address1") or "",
                line2=ship.get("address2") or "",
                city=ship.get("city") or "",
                region=ship.get("province_code") or ship.get("province") or "",
                postal_code=ship.get("zip") or "",
                country=ship.get("country_code") or "",
            ),
            billing_address=_billing(payload.get("billing_address")),
            shipping_total=_sum(shipping_lines, "price", currency),
            shipping_tax=shipping_tax,
            payment_status=PAYMENT.get(
                payload.get("financial_status") or "", PaymentStatus.PENDING
            ),
            payment_method=str(payload.get("gateway") or "")[:50],
            payment_reference=str(payload.get("name") or "")[:100],
            notes=str(payload.get("note") or ""),
        )

    @staticmethod
    def _order_level_tax(
        payload: dict[str, Any], lines: list[LineInput], currency: str, shipping_tax: Decimal
    ) -> list[LineInput]:
        """Older orders state tax only on the order (`tax_lines`, `total_tax`): spread what is
        not shipping tax over the lines by value, so the order's tax total is the platform's."""
        if any(line.tax for line in lines):
            return lines
        order_tax = _sum(payload.get("tax_lines"), "price", currency) or money(
            payload.get("total_tax"), currency
        )
        rest = order_tax - shipping_tax
        if rest <= 0:
            return lines
        parts = allocate(rest, [x.unit_price * x.quantity - x.discount for x in lines], currency)
        return [
            LineInput(
                sku=x.sku,
                quantity=x.quantity,
                unit_price=x.unit_price,
                discount=x.discount,
                tax=part,
                external_line_id=x.external_line_id,
            )
            for x, part in zip(lines, parts, strict=True)
        ]

    def auth_headers(self, connection: "ChannelConnection") -> dict[str, str]:
        return {"x-shopify-access-token": connection.credentials}

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        order_id = call.payload["external_id"]
        if call.action == "fulfill":
            return self._fulfill(client, order_id, call.payload)
        if call.action == "tracking":
            return self._tracking(client, call)
        if call.action == "cancel":
            response = client.request("POST", f"orders/{order_id}/cancel.json", json_body={})
            return {"cancelled_at": (response.json().get("order") or {}).get("cancelled_at")}
        if call.action == "refund":
            return self._refund(client, call)
        raise CallFailed(f"Shopify has no action {call.action}", retryable=False)

    def _fulfill(self, client: "Client", order_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        listing = client.request("GET", f"orders/{order_id}/fulfillment_orders.json").json()
        wanted = {str(x["external_line_id"]): int(x["quantity"]) for x in payload["lines"]}
        by_fo: dict[int, list[dict[str, int]]] = {}
        for fo in listing.get("fulfillment_orders", []):
            if fo.get("status") not in ("open", "in_progress", "scheduled"):
                continue
            for item in fo.get("line_items", []):
                key = str(item.get("line_item_id"))
                take = min(wanted.get(key, 0), int(item.get("fulfillable_quantity") or 0))
                if take > 0:
                    by_fo.setdefault(fo["id"], []).append({"id": item["id"], "quantity": take})
                    wanted[key] -= take
        if not by_fo:
            raise CallFailed(
                "Shopify lists no open fulfillment order line for the shipped lines",
                retryable=False,
            )
        package = payload["packages"][0] if payload.get("packages") else {}
        body = {
            "fulfillment": {
                "line_items_by_fulfillment_order": [
                    {"fulfillment_order_id": fo_id, "fulfillment_order_line_items": items}
                    for fo_id, items in by_fo.items()
                ],
                "tracking_info": {
                    "number": package.get("tracking_number", ""),
                    "company": package.get("carrier", ""),
                },
                "notify_customer": True,
            }
        }
        created = client.request("POST", "fulfillments.json", json_body=body).json()
        return {"fulfillment_id": (created.get("fulfillment") or {}).get("id")}

    def _tracking(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        order_id, payload = call.payload["external_id"], call.payload
        fulfillment = self._fulfillment_of(client, call)
        fid = fulfillment["id"]
        result: dict[str, Any] = {"fulfillment_id": fid}
        number, company = payload.get("tracking_number", ""), payload.get("carrier", "")
        held = [str(x) for x in fulfillment.get("tracking_numbers") or []] or [
            str(fulfillment.get("tracking_number") or "")
        ]
        if (
            number not in held
            or (company or "").lower() != str(fulfillment.get("tracking_company") or "").lower()
        ):
            client.request(
                "POST",
                f"fulfillments/{fid}/update_tracking.json",
                json_body={
                    "fulfillment": {
                        "tracking_info": {"number": number, "company": company},
                        "notify_customer": False,
                    }
                },
            )
            result["tracking_updated"] = True
        status = FULFILLMENT_EVENT_STATUS.get(payload.get("status", ""))
        if status is None:
            return {**result, "event": None}
        happened_at = parse_time(payload.get("occurred_at"))
        events_path = f"orders/{order_id}/fulfillments/{fid}/events.json"
        listed = client.request("GET", events_path).json().get("fulfillment_events") or []
        for known in listed:
            if known.get("status") == status and _same_instant(
                known.get("happened_at"), happened_at
            ):
                return {**result, "event_id": known.get("id"), "already_there": True}
        event: dict[str, Any] = {"status": status, "happened_at": happened_at.isoformat()}
        if payload.get("location"):
            event["message"] = str(payload["location"])[:255]
        if payload.get("status") == "returned":
            event["message"] = ("Returned to sender. " + event.get("message", "")).strip()
        created = client.request("POST", events_path, json_body={"event": event}).json()
        return {**result, "event_id": (created.get("fulfillment_event") or {}).get("id")}

    @staticmethod
    def _fulfillment_of(client: "Client", call: "OutboundCall") -> dict[str, Any]:
        """Shopify's fulfillment of the parcel: the one oms's fulfill call created (its id came
        back to that call; the handler copies it in as `platform_fulfillment_id`), else the one
        holding the tracking number. None yet (the fulfill call still waits) is retried."""
        order_id, payload = call.payload["external_id"], call.payload
        listing = client.request("GET", f"orders/{order_id}/fulfillments.json").json()
        fulfillments = listing.get("fulfillments") or []
        created = payload.get("platform_fulfillment_id")
        number = payload.get("tracking_number", "")
        for fulfillment in fulfillments:
            if created is not None and str(fulfillment.get("id")) == str(created):
                return dict(fulfillment)
        for fulfillment in fulfillments:
            held = fulfillment.get("tracking_numbers") or [fulfillment.get("tracking_number")]
            if number and number in held:
                return dict(fulfillment)
        raise CallFailed(
            f"Shopify lists no fulfillment of {payload.get('fulfillment')} "
            f"(tracking number {number}) on order {order_id} yet"
        )

    def _refund(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        order_id, payload = call.payload["external_id"], call.payload
        mark = f"[{refund_mark(call)}]"
        made = client.request("GET", f"orders/{order_id}/refunds.json").json()
        for known in made.get("refunds") or []:
            if mark in str(known.get("note") or ""):
                return {"refund_id": known.get("id"), "already_there": True}
        listing = client.request("GET", f"orders/{order_id}/transactions.json").json()
        parents = [
            t
            for t in listing.get("transactions", [])
            if t.get("kind") in ("capture", "sale") and t.get("status") == "success"
        ]
        if not parents:
            raise CallFailed("Shopify lists no captured payment to refund", retryable=False)
        parent = parents[-1]
        lines = [
            {
                "line_item_id": int(line["external_line_id"]),
                "quantity": int(line["quantity"]),
                "restock_type": "no_restock",  # oms keeps the stock (the return's disposition)
            }
            for line in payload.get("lines") or []
            if str(line.get("external_line_id") or "").isdigit()
        ]
        body = {
            "refund": {
                "currency": payload["currency"],
                "notify": True,
                # the mark names the oms refund (looked for above before a retry refunds)
                "note": f"{str(payload.get('reason', ''))[: 254 - len(mark)]} {mark}".strip(),
                **({"refund_line_items": lines} if lines else {}),
                "transactions": [
                    {
                        "parent_id": parent["id"],
                        "amount": payload["amount"],
                        "kind": "refund",
                        "gateway": parent.get("gateway", ""),
                    }
                ],
            }
        }
        created = client.request("POST", f"orders/{order_id}/refunds.json", json_body=body).json()
        return {"refund_id": (created.get("refund") or {}).get("id")}


# oms scan status (fulfillment/services/shipping.py) → Shopify's fulfillment event status.
FULFILLMENT_EVENT_STATUS = {
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "exception": "failure",
    "returned": "failure",
}


def _same_instant(value: Any, when: datetime) -> bool:
    try:
        return bool(value) and parse_time(value) == when
    except MappingError:
        return False


def _billing(billing: Any) -> dict[str, Any]:
    if not isinstance(billing, dict):
        return {}
    return {
        "name": billing.get("name") or "",
        "line1": billing.get("address1") or "",
        "line2": billing.get("address2") or "",
        "city": billing.get("city") or "",
        "region": billing.get("province_code") or "",
        "postal_code": billing.get("zip") or "",
        "country": billing.get("country_code") or "",
    }


register_adapter(Shopify())
