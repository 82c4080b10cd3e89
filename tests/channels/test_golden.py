"""Every order payload of every platform in the corpus, through the platform's public webhook
endpoint (Amazon: through polling a fake SP-API), becomes the canonical order it must, or a
refused message with the code it must. golden.json lists, per corpus file (and order in it):
channel, external id, lines (SKU, quantity, unit price, discount, tax), currency, ship-to and
totals (subtotal, shipping, tax, grand total), or the refusal's code.

Channel settings the golden results assume: the WooCommerce channel maps the store's products
without SKUs (ids 93 and 87) in its sku_map, as a store that sells products without SKUs must;
every other channel has no mapping. `OMS_GOLDEN_WRITE=1` rewrites golden.json from the
results (review the diff before committing it)."""

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from channels.services.polling import poll_channel
from channels.services.setup import create_channel
from integrations.models import InboundMessage
from orders.models import Order
from tests.channels.platforms import SECRET, post, snapshot
from tests.corpus import ROOT, corpus, needs

pytestmark = [pytest.mark.django_db, needs("shopify")]

GOLDEN_FILE = Path(__file__).with_name("golden.json")
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text()) if GOLDEN_FILE.exists() else {}
WOO_SKU_MAP = {"93": "WOO-SINGLE-1", "87": "WOO-ALBUM-2"}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(), parse_float=Decimal)


def _orders(platform: str, path: Path) -> list[Any]:
    data = _load(path)
    if platform in ("shopify", "woocommerce"):
        if isinstance(data, list):
            found = data
        elif isinstance(data.get("order"), dict):
            found = [data["order"]]
        elif isinstance(data.get("orders"), list):
            found = data["orders"]
        elif "create" in data or "update" in data:
            found = data.get("create", []) + data.get("update", [])
        else:
            found = [data]
        # orders, not fulfillment orders, fulfillments or transactions
        return [o for o in found if isinstance(o, dict) and "line_items" in o and "currency" in o]
    if platform == "commercetools":
        if not isinstance(data, dict):
            return []
        if isinstance(data.get("results"), list):
            return data["results"]
        return [data] if data.get("type") == "Order" else []
    if platform == "magento":
        if not isinstance(data, dict):
            return []
        # orders, not invoices (whose items have `qty`, not `qty_ordered`)
        items = data.get("items") or []
        return [data] if items and all("qty_ordered" in i for i in items) else []
    return []


def _cases() -> list[Any]:
    cases = []
    for platform, pattern in (
        ("shopify", "shopify/*.json"),
        ("woocommerce", "woocommerce/*orders*.json"),
        ("magento", "magento/*.json"),
        ("commercetools", "commercetools/*.json"),
    ):
        for path in sorted(ROOT.glob(pattern)):
            for index, order in enumerate(_orders(platform, path)):
                key = f"{path.relative_to(ROOT)}#{index}"
                cases.append(pytest.param(platform, order, key, id=key))
    return cases


@pytest.fixture
def products(db):
    from tests.factories.inventory import ProductFactory

    for sku in (
        "IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK", "IPOD2009BLACK", "BAR3",
        "WOO-SINGLE-1", "WOO-ALBUM-2", "WS12-M-ORANGE", "SOME-SKU-123",
        "NABETAASINB00551Q3CS", "CBA_OTF_1", "CBA_OTF_5",
    ):  # fmt: skip
        ProductFactory(sku=sku, name=sku)


def _outcome(answer: Any, channel_code: str) -> Any:
    assert answer.status_code == 200, answer.content
    [result] = answer.json()["results"]
    if result["status"] == "captured":
        return snapshot(Order.objects.get(number=result["order"]))
    return {k: v for k, v in result.items() if k in ("status", "code", "reason")}


def _check(key: str, outcome: Any) -> None:
    if os.environ.get("OMS_GOLDEN_WRITE"):
        GOLDEN[key] = outcome
        GOLDEN_FILE.write_text(json.dumps(GOLDEN, indent=1, sort_keys=True) + "\n")
        return
    assert key in GOLDEN, f"{key} has no golden result"
    assert outcome == GOLDEN[key]


@pytest.mark.parametrize(("platform", "order", "key"), _cases())
def test_every_corpus_order_becomes_its_golden_order(client, products, platform, order, key):
    settings = {"sku_map": WOO_SKU_MAP} if platform == "woocommerce" else {}
    create_channel(code=platform, platform=platform, webhook_secret=SECRET, settings=settings)
    if platform == "commercetools":
        order = {"type": "OrderCreated", "id": "msg-1", "order": order}
    _check(key, _outcome(post(client, platform, platform, order), platform))


@pytest.mark.parametrize(
    ("orders_file", "items_file"),
    [
        (
            "spapi_ordersV0__getOrders__sandbox1.json",
            "spapi_ordersV0__getOrderItems__sandbox1.json",
        ),
        ("spapi_ordersV0__getOrders__example.json", "spapi_ordersV0__getOrderItems__example.json"),
    ],
)
def test_every_polled_amazon_order_becomes_its_golden_order(
    products, fake, orders_file, items_file
):
    def response(name: str) -> Any:
        data = _load(corpus("amazon") / name)
        return data.get("response", data)  # sandbox files pair a request with its response

    fake.answer("POST", "/auth/o2/token", {"access_token": "Atza|test", "token_type": "bearer"})
    fake.answer("GET", "/orders/v0/orders", response(orders_file))
    fake.answer("GET", r"/orders/v0/orders/[^/]+/orderItems", response(items_file))
    # the restricted address call (the app's role allows it: settings fetch_address)
    fake.answer(
        "GET",
        r"/orders/v0/orders/[^/]+/address",
        response("spapi_ordersV0__getOrderAddress__sandbox1.json"),
    )
    connection = create_channel(
        code="amazon-us",
        platform="amazon",
        base_url=fake.base_url,
        credentials=json.dumps({"client_id": "c", "client_secret": "s", "refresh_token": "r"}),
        settings={"lwa_endpoint": f"{fake.base_url}/auth/o2/token", "fetch_address": True},
    )
    poll_channel(connection_id=connection.pk)

    outcomes = []
    for message in InboundMessage.objects.filter(source="channel:amazon-us").order_by("id"):
        if message.status == "processed":
            outcomes.append(snapshot(Order.objects.get(number=message.result["order"])))
        else:
            outcomes.append({"status": "refused", "code": message.error_code})
    assert outcomes, "the poll read orders"
    _check(f"amazon/{orders_file}", outcomes)
