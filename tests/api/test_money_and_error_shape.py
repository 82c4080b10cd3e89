"""Issue 10 (items 3 and 8) through the API: every amount fits the columns it is stored in or is
a 400 `amount_out_of_range` (never a 500), money scale is read as written, address countries are
ISO 3166-1, and every error body has exactly the documented keys, `extra` included."""

import json
from decimal import Decimal

import pytest
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from oms.api.errors import exception_handler
from oms.api.models import IdempotencyKey
from oms.core.money import max_amount
from oms.events.models import Event
from orders.models import Order, OrderLine
from tests.api.test_orders_api import order_body
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory

pytestmark = pytest.mark.django_db

LIMIT_USD = "9999999999999999.99"  # below 10^16: numeric(20, 4)
ERROR_KEYS = {"code", "detail", "errors", "extra"}


@pytest.fixture(autouse=True)
def _products(db):
    for sku in ("TEE-1", "MUG-2"):
        ProductFactory(sku=sku)


def one_line(quantity, unit_price, **line):
    return [{"sku": "TEE-1", "quantity": quantity, "unit_price": unit_price, **line}]


def post(api, body, **headers):
    """POST /orders/; top-level keys set to None are left out of the body."""
    body = {k: v for k, v in body.items() if v is not None}
    return api.post("/api/v1/orders/", body, format="json", **headers)


def assert_nothing_written():
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Event.objects.exists()


# --- amounts over what the schema stores -----------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "overrides", "expected"),
    [
        (
            "unit price",
            {"lines": one_line(1, "10000000000000000.00")},
            [("amount_out_of_range", "lines[0].unit_price")],
        ),
        (
            "shipping total",
            {"shipping_total": "10000000000000000.00"},
            [("amount_out_of_range", "shipping_total")],
        ),
        (
            "quantity × unit price, each storable",
            {"lines": one_line(100_000, "1000000000000.00")},
            [("amount_out_of_range", "lines[0].total")],
        ),
        (
            "line total with tax",
            {"lines": one_line(1, LIMIT_USD, tax="0.01")},
            [("amount_out_of_range", "lines[0].total")],
        ),
        (
            "order subtotal over lines that each fit",
            {"lines": one_line(1, "6000000000000000.00") + one_line(1, "6000000000000000.00")},
            [("amount_out_of_range", "subtotal"), ("amount_out_of_range", "grand_total")],
        ),
        (
            "grand total: lines plus shipping",
            {"lines": one_line(1, LIMIT_USD), "shipping_total": "0.01"},
            [("amount_out_of_range", "grand_total")],
        ),
        (
            "discount and tax",
            {"lines": one_line(1, "1.00", discount="1e16", tax="1e999999999")},
            [
                ("amount_out_of_range", "lines[0].discount"),
                ("amount_out_of_range", "lines[0].tax"),
            ],
        ),
        (
            "shipping tax and grand total",
            {"shipping_tax": "123456789012345678901234567890", "grand_total": "1E+20"},
            [("amount_out_of_range", "shipping_tax"), ("amount_out_of_range", "grand_total")],
        ),
    ],
)
def test_an_amount_the_columns_cannot_hold_is_400_amount_out_of_range(
    web_api, _case, overrides, expected
):
    # given
    body = order_body(**{"grand_total": None, **overrides})

    # when
    response = post(web_api, body)

    # then
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "validation_failed"
    assert [(e["code"], e["field"]) for e in payload["errors"]] == expected
    assert all(LIMIT_USD in e["detail"] for e in payload["errors"])
    assert payload["extra"] == {"max_amount": LIMIT_USD, "currency": "USD"}
    assert_nothing_written()
    assert not IdempotencyKey.objects.exists()


def test_an_out_of_range_amount_sent_as_a_json_number_is_400_too(web_api):
    body = order_body()
    del body["grand_total"]
    raw = json.dumps(body).replace('"5.00"', "1e400")

    response = web_api.post("/api/v1/orders/", data=raw, content_type="application/json")

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("amount_out_of_range", "shipping_total")
    ]
    assert_nothing_written()


def test_an_out_of_range_refusal_is_kept_for_its_idempotency_key_and_replayed(web_api):
    # given
    body = order_body(grand_total=None, shipping_total="10000000000000000")
    first = post(web_api, body, HTTP_IDEMPOTENCY_KEY="big-1")

    # when
    again = post(web_api, body, HTTP_IDEMPOTENCY_KEY="big-1")

    # then: a 4xx, kept like any other (docs/api.md); nothing else was written
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().response_status == 400
    assert_nothing_written()


@pytest.mark.parametrize(
    ("_case", "overrides"),
    [
        # The three amounts of the issue, which answered 500 on numeric(14, 4).
        ("unit price", {"lines": one_line(1, "99999999999.99")}),
        ("shipping total", {"shipping_total": "99999999999.99"}),
        ("quantity × price", {"lines": one_line(100_000, "1000000.00")}),
    ],
)
def test_the_issue_amounts_are_now_stored_exactly(web_api, _case, overrides):
    body = order_body(**{"grand_total": None, **overrides})

    response = post(web_api, body)

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    lines = list(order.lines.all())
    assert all(li.total == li.unit_price * li.quantity - li.discount for li in lines)
    expected = sum(li.total + li.tax for li in lines) + order.shipping_total
    assert order.grand_total == expected
    assert Decimal(str(overrides.get("shipping_total", "5.00"))) == order.shipping_total
    assert response.json()["grand_total"] == f"{order.grand_total:.2f}"


def test_a_billion_dollar_b2b_order_in_dong_fits(web_api):
    """10^9 USD is about 2.5 × 10^13 VND (0 minor units)."""
    lines = one_line(50_000, "500000000") + [
        {"sku": "MUG-2", "quantity": 1, "unit_price": "9999999"}
    ]
    body = order_body(currency="VND", lines=lines, shipping_total="1", grand_total="25000010000000")

    response = post(web_api, body)

    assert response.status_code == 201, response.json()
    assert response.json()["grand_total"] == "25000010000000"
    assert Order.objects.get().grand_total == Decimal("25000010000000")


def test_the_limit_is_per_currency_minor_units():
    assert str(max_amount("USD")) == LIMIT_USD
    assert str(max_amount("JPY")) == "9999999999999999"
    assert str(max_amount("KWD")) == "9999999999999999.999"


# --- scale and countries ---------------------------------------------------------------------


def test_jpy_without_decimals_is_accepted_and_with_zero_decimals_is_refused(web_api):
    jpy = {"currency": "JPY", "shipping_total": "500", "grand_total": None}

    refused = post(web_api, order_body(lines=one_line(1, "1200.00"), **jpy))
    accepted = post(web_api, order_body(lines=one_line(1, "1200"), **jpy))

    assert refused.status_code == 400
    assert [(e["code"], e["field"]) for e in refused.json()["errors"]] == [
        ("invalid_money_scale", "lines[0].unit_price")
    ]
    assert accepted.status_code == 201
    assert accepted.json()["lines"][0]["unit_price"] == "1200"


@pytest.mark.parametrize("country", ["XX", "ZZ", "EU", "UN", "AA", "QO", "UK", "xk"])
def test_a_country_that_is_not_iso_3166_1_is_refused(web_api, country):
    address = {**order_body()["shipping_address"], "country": country}

    response = post(web_api, order_body(shipping_address=address))

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("unknown_country", "shipping_address.country")
    ]
    assert_nothing_written()


@pytest.mark.parametrize("country", ["US", "gb", "JP", "AX", "SS"])
def test_iso_3166_1_countries_are_accepted(web_api, country):
    address = {**order_body()["shipping_address"], "country": country}

    response = post(web_api, order_body(shipping_address=address))

    assert response.status_code == 201
    assert response.json()["shipping_address"]["country"] == country.upper()


# --- one error shape everywhere ----------------------------------------------------------------


def _node_key_on_orders(web_api):
    from orders.services.api_clients import create_api_client
    from tests.factories.inventory import NodeFactory

    NodeFactory(code="dc-x")
    return bearer_client(create_api_client(node_code="dc-x", name="wms").key).get("/api/v1/orders/")


ERROR_PATHS = {
    "serializer validation (400)": (
        lambda api: post(api, order_body(customer=None)),
        400,
        "validation_failed",
    ),
    "service validation, InvalidInput (400)": (
        lambda api: post(api, order_body(lines=one_line(1, "1.00", sku="NOPE"))),
        400,
        "validation_failed",
    ),
    "malformed JSON (400)": (
        lambda api: api.post("/api/v1/orders/", data="{", content_type="application/json"),
        400,
        "malformed_json",
    ),
    "bad idempotency key (400)": (
        lambda api: post(api, order_body(), HTTP_IDEMPOTENCY_KEY="é"),
        400,
        "invalid_idempotency_key",
    ),
    "no key (401)": (
        lambda api: APIClient().get("/api/v1/orders/"),
        401,
        "not_authenticated",
    ),
    "unknown key (401)": (
        lambda api: bearer_client("oms_abc_def").get("/api/v1/orders/"),
        401,
        "invalid_api_key",
    ),
    "channel key on the node API (403)": (
        lambda api: api.get("/api/v1/fulfillments/"),
        403,
        "permission_denied",
    ),
    "node key on the order API (403)": (_node_key_on_orders, 403, None),
    "unknown order, DomainError (404)": (
        lambda api: api.get("/api/v1/orders/OMS-0000-0000/"),
        404,
        "order_not_found",
    ),
    "unknown URL under /api/ (404)": (
        lambda api: api.get("/api/v1/no-such-thing/"),
        404,
        "not_found",
    ),
    "method not allowed (405)": (
        lambda api: api.delete("/api/v1/orders/"),
        405,
        "method_not_allowed",
    ),
    "payload too large (413)": (
        lambda api: api.post(
            "/api/v1/orders/", data="[" + "1," * 600_000 + "1]", content_type="application/json"
        ),
        413,
        "payload_too_large",
    ),
    "unsupported media type (415)": (
        lambda api: api.post("/api/v1/orders/", data="a=1", content_type="text/plain"),
        415,
        "unsupported_media_type",
    ),
}


@pytest.mark.parametrize("case", list(ERROR_PATHS))
def test_every_error_path_answers_the_documented_shape_with_extra(web_api, case):
    # given
    call, status, code = ERROR_PATHS[case]

    # when
    response = call(web_api)

    # then
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == ERROR_KEYS
    assert payload["extra"] == {}
    assert isinstance(payload["errors"], list)
    assert payload["detail"]
    if code is not None:
        assert payload["code"] == code


def test_a_domain_error_with_context_keeps_it_in_extra(web_api):
    post(web_api, order_body())

    duplicate = post(web_api, order_body())

    assert duplicate.status_code == 409
    assert set(duplicate.json()) == ERROR_KEYS
    assert duplicate.json()["extra"]["number"] == Order.objects.get().number


def test_throttling_answers_the_documented_shape():
    response = exception_handler(Throttled(wait=7), {})

    assert response is not None
    assert response.status_code == 429
    assert response.data == {
        "code": "throttled",
        "detail": response.data["detail"],
        "errors": [],
        "extra": {},
    }
    assert response["Retry-After"] == "7"
