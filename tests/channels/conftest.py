import json
from decimal import Decimal

import pytest

from channels.adapters.common import hmac_b64
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
