"""read_order_input() (orders/api/order_input.py) against OrderCreateInputSerializer: on every
body of the corpus, either it leaves the body to the serializer (None), or the serializer
accepts the body too and builds the same OrderInput. It never accepts what DRF refuses."""

import copy
import random
from decimal import Decimal

import pytest

from bench.capture_load import order_body as bench_order_body
from orders.api.order_input import read_order_input
from orders.api.serializers import OrderCreateInputSerializer
from tests.api.test_orders_api import order_body


def _bench_like(seed: int) -> dict:
    """What `make bench` posts (bench/capture_load.py), with a fixed seed."""
    return bench_order_body(random.Random(seed), f"B-{seed}", 9999)


def _set(body: dict, path: str, value) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return body


def _drop(body: dict, path: str) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[last]
    return body


BASE = order_body()
BENCH = _bench_like(1)

# (path, value) changes applied to each base body: valid variants and invalid ones.
CHANGES = [
    ("external_id", "  padded  "),
    ("external_id", ""),
    ("external_id", "   "),
    ("external_id", 12),
    ("external_id", None),
    ("external_id", "x" * 100),
    ("external_id", "x" * 101),
    ("external_id", "tab\there"),
    ("external_id", "nul\x00"),
    ("external_id", "été-ünïcode-🙂"),
    ("placed_at", "2026-11-20"),
    ("placed_at", "2026-11-20T09:30:00+20:00"),
    ("placed_at", "0001-01-01T00:00:00Z"),
    ("placed_at", "2026-11-20T09:30:00"),
    ("placed_at", "2026-11-20T09:30:00-05:00"),
    ("placed_at", "not a date"),
    ("placed_at", 1700000000),
    ("currency", "usd"),
    ("currency", " USD "),
    ("currency", "USDX"),
    ("currency", "XXX"),
    ("currency", "USD\n"),
    ("customer", None),
    ("customer", {}),
    ("customer", {"name": "A"}),
    ("customer", "Grace"),
    ("customer.email", "not-an-email"),
    ("customer.email", ""),
    ("customer.email", "  Grace@Example.com  "),
    ("customer.email", "a@localhost"),
    ("customer.phone", None),
    ("customer.phone", "9" * 41),
    ("customer.extra", "x"),
    ("delivery", {}),
    ("delivery", None),
    ("delivery.method", "pickup"),
    ("delivery.method", "teleport"),
    ("delivery.method", 1),
    ("delivery.method", ""),
    ("delivery.service_level", "overnight"),
    ("delivery.pickup_node", "store-1"),
    ("shipping_address", None),
    ("shipping_address", {}),
    ("shipping_address.country", "usa"),
    ("shipping_address.country", "us"),
    ("shipping_address.country", "ZZ"),
    ("shipping_address.latitude", "40.7"),
    ("shipping_address.latitude", 40.7),
    ("shipping_address.line1", ""),
    ("shipping_address.postal_code", "1" * 21),
    ("billing_address", {"line1": "x", "city": "y", "country": "US"}),
    ("lines", []),
    ("lines", None),
    ("lines", "TEE"),
    ("lines.0.quantity", 0),
    ("lines.0.quantity", -1),
    ("lines.0.quantity", "2"),
    ("lines.0.quantity", 2.0),
    ("lines.0.quantity", True),
    ("lines.0.quantity", 100_000),
    ("lines.0.quantity", 100_001),
    ("lines.0.unit_price", "19.999"),
    ("lines.0.unit_price", "-1"),
    ("lines.0.unit_price", "1e3"),
    ("lines.0.unit_price", " 19.99"),
    ("lines.0.unit_price", "19.99\n"),
    ("lines.0.unit_price", 19),
    ("lines.0.unit_price", -19),
    ("lines.0.unit_price", Decimal("19.99")),
    ("lines.0.unit_price", 19.99),
    ("lines.0.unit_price", True),
    ("lines.0.unit_price", "NaN"),
    ("lines.0.unit_price", "0019.990"),
    ("lines.0.unit_price", ""),
    ("lines.0.discount", "1.00"),
    ("lines.0.tax", None),
    ("lines.0.sku", "  TEE-1 "),
    ("lines.0.sku", ""),
    ("lines.0.sku", "x" * 65),
    ("lines.0.external_line_id", "L1"),
    ("lines.0.quantiy", 2),
    ("lines.0", "TEE"),
    ("shipping_total", "0"),
    ("shipping_total", 0),
    ("shipping_tax", "1.50"),
    ("grand_total", "1.00"),
    ("grand_total", None),
    ("payment", None),
    ("payment", {}),
    ("payment.status", "refunded"),
    ("payment.status", "paid"),
    ("payment.method", 7),
    ("notes", "Leave at the door"),
    ("notes", "line one\nline two"),
    ("notes", "x" * 2001),
    ("holds", [{"kind": "fraud"}]),
    ("holds", []),
    ("surprise", 1),
]
DROPS = [
    "external_id",
    "placed_at",
    "currency",
    "customer",
    "customer.name",
    "customer.email",
    "delivery",
    "delivery.method",
    "shipping_address",
    "shipping_address.city",
    "lines",
    "lines.0.sku",
    "lines.0.quantity",
    "lines.0.unit_price",
    "shipping_total",
    "grand_total",
    "payment",
    "payment.status",
]


def _corpus():
    bodies = [BASE, BENCH, *(_bench_like(seed) for seed in range(2, 6))]
    for base in (BASE, BENCH):
        for path, value in CHANGES:
            try:
                bodies.append(_set(base, path, value))
            except (KeyError, IndexError):
                continue
        for path in DROPS:
            try:
                bodies.append(_drop(base, path))
            except (KeyError, IndexError):
                continue
    bodies += [None, [], "order", 42, {}, {"lines": [BASE["lines"][0]] * 501}]
    return bodies


CORPUS = _corpus()


@pytest.mark.parametrize("body", CORPUS, ids=[f"body{i}" for i in range(len(CORPUS))])
def test_the_fast_path_agrees_with_the_serializer(body):
    fast = read_order_input(copy.deepcopy(body))

    serializer = OrderCreateInputSerializer(data=copy.deepcopy(body))
    if fast is None:
        return  # the serializer decides: the view's fallback
    assert serializer.is_valid(), serializer.errors
    expected = serializer.to_order_input()
    assert fast == expected
    # Decimal('9.990') == Decimal('9.99'), but the scale is checked later (invalid_money_scale):
    # the reprs show each amount's exponent and each datetime's tzinfo
    assert repr(fast) == repr(expected)


@pytest.mark.parametrize(
    "body",
    [BASE, BENCH, _set(BENCH, "customer.email", ""), _drop(BENCH, "delivery")],
    ids=["api-tests", "bench", "no-email", "no-delivery"],
)
def test_the_common_bodies_take_the_fast_path(body):
    assert read_order_input(copy.deepcopy(body)) is not None


def test_the_corpus_has_both_kinds():
    accepted = sum(read_order_input(copy.deepcopy(body)) is not None for body in CORPUS)
    assert 30 < accepted < len(CORPUS) - 60


def test_the_fast_path_matches_the_serializer_it_was_written_for():
    from orders.api import order_input

    assert order_input._Reader().enabled


def test_a_changed_limit_in_the_serializer_turns_the_fast_path_off(monkeypatch):
    from orders.api import order_input

    monkeypatch.setattr(order_input, "_reader", None)
    changed = tuple(
        (s, n, 1000 if n == "notes" else m, r) for s, n, m, r in order_input.TEXT_FIELDS
    )
    monkeypatch.setattr(order_input, "TEXT_FIELDS", changed)

    assert read_order_input(copy.deepcopy(BENCH)) is None
    monkeypatch.setattr(order_input, "_reader", None)
