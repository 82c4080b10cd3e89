"""Posting a corpus payload to the public webhook endpoint the way each platform signs it."""

import json
from decimal import Decimal
from typing import Any

from channels.adapters.common import hmac_b64
from oms.core.money import format_amount

SECRET = "whsec_channel_test"  # noqa: S105 - a test value


def signed(platform: str, raw: bytes, delivery: str, topic: str = "") -> dict[str, str]:
    signature = hmac_b64(SECRET, raw)
    if platform == "shopify":
        return {
            "HTTP_X_SHOPIFY_TOPIC": topic or "orders/create",
            "HTTP_X_SHOPIFY_HMAC_SHA256": signature,
            "HTTP_X_SHOPIFY_WEBHOOK_ID": delivery,
        }
    if platform == "woocommerce":
        return {
            "HTTP_X_WC_WEBHOOK_TOPIC": topic or "order.created",
            "HTTP_X_WC_WEBHOOK_SIGNATURE": signature,
            "HTTP_X_WC_WEBHOOK_DELIVERY_ID": delivery,
        }
    return {"HTTP_X_OMS_SIGNATURE": signature, "HTTP_X_OMS_DELIVERY_ID": delivery}


def body(value: Any) -> bytes:
    return json.dumps(value, default=lambda d: str(d) if isinstance(d, Decimal) else d).encode()


def post(client, platform: str, code: str, value: Any, delivery: str = "d-1", topic: str = ""):
    raw = body(value)
    return client.post(
        f"/webhooks/{platform}/{code}/",
        raw,
        content_type="application/json",
        **signed(platform, raw, delivery, topic),
    )


def snapshot(order) -> dict[str, Any]:
    """What a golden test compares: channel, external id, lines, currency, address, totals."""

    def money(amount: Decimal) -> str:
        return format_amount(amount, order.currency)

    return {
        "channel": order.channel.code,
        "external_id": order.external_id,
        "currency": order.currency,
        "lines": [
            [line.sku, line.quantity, money(line.unit_price), money(line.discount), money(line.tax)]
            for line in order.lines.order_by("line_number")
        ],
        "ship_to": [
            order.ship_name,
            order.ship_line1,
            order.ship_city,
            order.ship_region,
            order.ship_postal_code,
            order.ship_country,
        ],
        "totals": [
            money(order.subtotal),
            money(order.shipping_total),
            money(order.tax_total),
            money(order.grand_total),
        ],
    }
