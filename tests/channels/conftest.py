import json
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.adapters.common import hmac_b64
from channels.models import OutboundCall
from channels.services.outbound import send_call
from tests.channels.fake_platform import FakePlatform, running
from tests.corpus import corpus

SECRET = "shpss_test_secret"  # noqa: S105 - a test value


def load(part: str) -> dict:
    return json.loads(corpus(part).read_text(), parse_float=Decimal)


@pytest.fixture
def fake(settings):
    """A fake platform on 127.0.0.1, allowed past the SSRF guard by the development allow-list."""
    settings.OMS_CHANNELS_ALLOWED_HOSTS = ["127.0.0.1"]
    with running(FakePlatform()) as platform:
        yield platform


@pytest.fixture
def warehouse(db):
    """A simulated WMS that ships at once, with the products of Shopify's order fixture."""
    from tests.factories.inventory import NodeFactory, ProductFactory, stocked

    node = NodeFactory(
        code="dc-sim",
        connector="simulated",
        connector_settings={"behaviour": "ship", "step_seconds": 0},
    )
    for sku in (
        "IPOD2008GREEN",
        "IPOD2008RED",
        "IPOD2008BLACK",
        "IPOD2009BLACK",
        "BAR3",
        "WS12-M-ORANGE",
        "SOME-SKU-123",
    ):
        stocked(node, ProductFactory(sku=sku, name=sku), on_hand=50)
    return node


def shopify_headers(raw: bytes, topic: str, delivery: str, secret: str = SECRET) -> dict[str, str]:
    return {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_HMAC_SHA256": hmac_b64(secret, raw),
        "HTTP_X_SHOPIFY_WEBHOOK_ID": delivery,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": "test-shop.myshopify.io",
    }


@pytest.fixture
def shop(db, fake):
    """The Shopify channel `shopify-us`, its endpoint the fake Shopify."""
    from channels.services.setup import create_channel

    return create_channel(
        code="shopify-us",
        platform="shopify",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/admin/api/2026-07",
        credentials="shpat_test_token",
    )


def shopify_fulfillment_orders() -> dict:
    """Shopify's open fulfillment order of #1001's three line items (ids 1072503277…79)."""
    return {
        "fulfillment_orders": [
            {
                "id": 1046000780,
                "status": "open",
                "line_items": [
                    {"id": 1072503277 + i, "line_item_id": li, "fulfillable_quantity": 1}
                    for i, li in enumerate((466157049, 518995019, 703073504))
                ],
            }
        ]
    }


def send_until_done(call: OutboundCall, times: int = 4) -> list[str | None]:
    """The sweeper's attempts at a call, each made due at once (the backoff is not waited
    for); the status after each."""
    statuses = []
    for _ in range(times):
        OutboundCall.objects.filter(pk=call.pk, status="pending").update(
            next_attempt_at=timezone.now()
        )
        statuses.append(send_call(call.pk))
    return statuses
