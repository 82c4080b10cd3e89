"""The demo's Shopify channel: `shopify-demo`, connected to Shopify, with order #1001 of Shopify's
own documentation (demo/fixtures, from the shared corpus) taken in through the same path as an
`orders/create` webhook (the adapter reads it, the inbound log keeps it, capture_order makes the
order). Shopify's SKUs are mapped to three demo catalogue products by the channel's sku_map.

Calls back to Shopify are off (no shop to call): switch them on with the shop's endpoint and
access token in the admin (Sales channels → Channel connections). Idempotent: a second seed
finds the delivery in the inbound log and changes nothing.
"""

from pathlib import Path

from channels.adapters import adapter_for
from channels.models import ChannelConnection
from channels.services.inbound import receive_notice
from channels.services.setup import create_channel, new_webhook_secret

CODE = "shopify-demo"
FIXTURE = Path(__file__).with_name("fixtures") / "shopify_order_1001.json"
DELIVERY_ID = "demo-shopify-order-1001"
SHOPIFY_SKUS = ("IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK")  # the SKUs in order #1001


def connect_demo_shopify(demo_skus: list[str]) -> str:
    """The demo Shopify channel, its SKUs mapped to `demo_skus`, and its order; returns what
    happened to the order (captured, or duplicate on a second seed)."""
    connection = (
        ChannelConnection.objects.select_related("channel").filter(channel__code=CODE).first()
    )
    if connection is None:
        connection = create_channel(
            code=CODE,
            platform="shopify",
            name="Shopify (demo)",
            webhook_secret=new_webhook_secret(),
            settings={"sku_map": dict(zip(SHOPIFY_SKUS, demo_skus, strict=True))},
        )
        ChannelConnection.objects.filter(pk=connection.pk).update(outbound_enabled=False)
    adapter = adapter_for("shopify")
    assert adapter is not None  # noqa: S101 - registered at import
    headers = {"x-shopify-topic": "orders/create", "x-shopify-webhook-id": DELIVERY_ID}
    [notice] = adapter.notices(FIXTURE.read_bytes(), headers)
    result = receive_notice(connection, notice)
    return f"{result['status']} {result.get('order', '')} {result.get('code', '')}".strip()
