"""No input reaches a 500 (issue 13, part 2): each class of bad input the fuzzing found is a 4xx
with a machine-readable code, and nothing is stored. docs/api.md, "Input limits"."""

import hashlib
import hmac
import json

import pytest
from rest_framework.test import APIClient

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from integrations.models import InboundMessage
from inventory.models import InventoryMovement, StockLevel
from oms.api.input_limits import MAX_DEPTH, MAX_ITEMS
from oms.events.models import Event
from orders.models import Order
from orders.services.api_clients import create_api_client
from tests.conftest import bearer_client
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
ADJUSTMENTS = "/api/v1/inventory/adjustments/"


@pytest.fixture
def tee(db):
    return ProductFactory(sku="TEE-1")


def order_body(**overrides):
    body = {
        "external_id": "W-1",
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
        "shipping_address": {
            "line1": "600 Pennsylvania Ave",
            "city": "Washington",
            "postal_code": "20500",
            "country": "US",
        },
        "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "19.99"}],
    }
    body.update(overrides)
    return body


def post_raw(api, url, raw: str):
    return api.post(url, data=raw.encode("utf-8"), content_type="application/json")


def codes(response):
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def assert_no_order_stored():
    assert not Order.objects.exists()
    assert not Event.objects.exists()


# --- NUL characters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw"),
    [
        ("in a value", json.dumps(order_body(notes="a\x00b"))),
        ("in a key", json.dumps({**order_body(), "no\x00te": "x"})),
        ("in a nested value", json.dumps(order_body(customer={"name": "G\x00", "email": ""}))),
        ("in a nested key", json.dumps(order_body(lines=[{"sku": "TEE-1", "\x00": 1}]))),
    ],
)
def test_a_nul_character_anywhere_in_the_body_is_400_nul_character(web_api, tee, _case, raw):
    response = post_raw(web_api, ORDERS, raw)

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"
    assert_no_order_stored()


@pytest.mark.parametrize(
    ("_case", "url"),
    [
        ("in the path", "/api/v1/orders/OMS-1%00/"),
        ("in a query value", "/api/v1/orders/?email=a%00b"),
        ("in a query key", "/api/v1/orders/?em%00ail=a"),
        ("in a date filter", "/api/v1/orders/?placed_after=2026-11-20T00:00:00%00Z"),
    ],
)
def test_a_nul_character_in_the_url_is_400_nul_character(web_api, _case, url):
    response = web_api.get(url)

    assert response.status_code == 400
    assert response.json() == {
        "code": "nul_character",
        "detail": "The URL contains a NUL character (%00), which is not allowed.",
        "errors": [],
        "extra": {},
    }


def test_a_nul_character_in_a_platform_webhook_url_is_400_in_the_api_shape(client):
    """The platforms' webhooks are machine callers too: the same error shape as the API."""
    response = client.post("/webhooks/shopify/web%00/", data=b"{}", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


def test_a_nul_character_in_an_admin_search_is_a_plain_400(client):
    response = client.get("/admin/orders/order/?q=%00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


# --- nesting, size, characters, numbers that are not JSON -------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_400_nesting_too_deep(web_api, tee, depth):
    raw = json.dumps(order_body())[:-1] + ', "notes": ' + "[" * depth + "]" * depth + "}"

    response = post_raw(web_api, ORDERS, raw)

    assert response.status_code == 400
    assert response.json()["code"] == "nesting_too_deep"
    assert_no_order_stored()


def test_nesting_up_to_the_limit_is_parsed_and_judged_by_the_serializer(web_api, tee):
    raw = json.dumps(order_body())[:-1] + ', "notes": ' + "[" * 30 + "]" * 30 + "}"

    response = post_raw(web_api, ORDERS, raw)

    assert response.status_code == 400
    assert codes(response) == [("invalid", "notes")]  # a list is not a string


def test_more_values_than_the_limit_is_400_too_many_items(web_api, tee):
    raw = json.dumps(order_body(notes=[0] * MAX_ITEMS))

    response = post_raw(web_api, ORDERS, raw)

    assert response.status_code == 400
    assert response.json()["code"] == "too_many_items"
    assert_no_order_stored()


def test_a_lone_surrogate_is_400_invalid_unicode(web_api, tee):
    raw = json.dumps(order_body()).replace('"Grace Hopper"', '"Grace \\ud800"')

    response = post_raw(web_api, ORDERS, raw)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_unicode"
    assert_no_order_stored()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(web_api, tee, constant):
    raw = json.dumps(order_body(shipping_total="X")).replace('"X"', constant)

    response = post_raw(web_api, ORDERS, raw)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert_no_order_stored()


# --- unknown keys, wrong types ----------------------------------------------------------


def test_unknown_keys_are_refused_with_their_paths(web_api, tee):
    body = order_body(colour="red")
    body["lines"][0]["gift_wrap"] = True
    body["customer"]["age"] = 40

    response = web_api.post(ORDERS, body, format="json")

    assert response.status_code == 400
    assert sorted(codes(response)) == [
        ("unknown_field", "colour"),
        ("unknown_field", "customer.age"),
        ("unknown_field", "lines[0].gift_wrap"),
    ]
    assert_no_order_stored()


@pytest.mark.parametrize(
    ("_case", "overrides", "field"),
    [
        ("number for a string", {"external_id": 12}, "external_id"),
        (
            "string for an integer",
            {"lines": [{"sku": "TEE-1", "quantity": "1", "unit_price": 1}]},
            "lines[0].quantity",
        ),
        (
            "float for an integer",
            {"lines": [{"sku": "TEE-1", "quantity": 1.0, "unit_price": 1}]},
            "lines[0].quantity",
        ),
        ("amount with spaces", {"shipping_total": " 5.00"}, "shipping_total"),
        ("amount as a boolean", {"shipping_total": True}, "shipping_total"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(
    web_api, tee, _case, overrides, field
):
    response = web_api.post(ORDERS, order_body(**overrides), format="json")

    assert response.status_code == 400
    assert codes(response) == [("invalid", field)]
    assert_no_order_stored()


# --- bounded strings, numbers and dates -------------------------------------------------


@pytest.mark.parametrize("length", [255, 320])
def test_an_email_longer_than_254_characters_is_400(web_api, tee, length):
    email = "a" * (length - len("@example.com")) + "@example.com"

    response = web_api.post(
        ORDERS, order_body(customer={"name": "G", "email": email}), format="json"
    )

    assert response.status_code == 400
    assert codes(response) == [("max_length", "customer.email")]
    assert_no_order_stored()


@pytest.mark.parametrize(
    ("_case", "placed_at", "code"),
    [
        ("offset +20:00", "2026-11-20T09:30:00+20:00", "timezone_offset_out_of_range"),
        ("offset -15:00", "2026-11-20T09:30:00-15:00", "timezone_offset_out_of_range"),
        ("year 0001", "0001-01-01T00:00:00Z", "date_out_of_range"),
        ("year 0001 with an offset", "0001-01-01T00:00:00+14:00", "date_out_of_range"),
        ("year 9999", "9999-12-31T23:59:59Z", "date_out_of_range"),
        ("a date without its time", "2026-11-20", "invalid"),
    ],
)
def test_placed_at_outside_sane_bounds_is_400_with_a_code(web_api, tee, _case, placed_at, code):
    response = web_api.post(ORDERS, order_body(placed_at=placed_at), format="json")

    assert response.status_code == 400
    assert codes(response) == [(code, "placed_at")]
    assert_no_order_stored()


def test_the_widest_real_offsets_are_accepted(web_api, tee):
    first = web_api.post(ORDERS, order_body(placed_at="2026-11-20T09:30:00+14:00"), format="json")
    second = web_api.post(
        ORDERS,
        order_body(external_id="W-2", placed_at="2026-11-20T09:30:00-12:00"),
        format="json",
    )

    assert (first.status_code, second.status_code) == (201, 201)


@pytest.mark.parametrize(
    ("_case", "query", "code"),
    [
        (
            "offset +20:00",
            "placed_after=2026-11-20T00:00:00%2B20:00",
            "timezone_offset_out_of_range",
        ),
        ("year 0001", "placed_before=0001-01-01T00:00:00-05:00", "date_out_of_range"),
    ],
)
def test_order_filters_outside_sane_bounds_are_400_with_a_code(web_api, _case, query, code):
    response = web_api.get(f"{ORDERS}?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert [e["code"] for e in response.json()["errors"]] == [code]


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "XAG", "XDR", "BOV", "DEM"])
def test_funds_metals_test_and_withdrawn_currencies_are_unknown_currency(web_api, tee, currency):
    response = web_api.post(ORDERS, order_body(currency=currency), format="json")

    assert response.status_code == 400
    assert codes(response) == [("unknown_currency", "currency")]
    assert_no_order_stored()


@pytest.mark.parametrize("country", ["XX", "ZZ", "EU", "QM"])
def test_a_country_iso_has_not_assigned_is_unknown_country(web_api, tee, country):
    address = {**order_body()["shipping_address"], "country": country}

    response = web_api.post(ORDERS, order_body(shipping_address=address), format="json")

    assert response.status_code == 400
    assert codes(response) == [("unknown_country", "shipping_address.country")]
    assert_no_order_stored()


@pytest.fixture
def dc(db):
    node = NodeFactory(code="dc-east")
    level = stocked(node, ProductFactory(sku="TEE-1"), on_hand=10)
    api = bearer_client(create_api_client(node_code="dc-east", name="wms").key)
    return node, level, api


@pytest.mark.parametrize("delta", [2**62, -(2**62), 2**31, 100_000_001])
def test_a_stock_delta_beyond_the_bound_is_400_and_applies_nothing(dc, delta):
    node, level, api = dc
    movements = InventoryMovement.objects.count()
    body = {"node": "dc-east", "message_id": "m-1", "lines": [{"sku": "TEE-1", "delta": delta}]}

    response = api.post(ADJUSTMENTS, body, format="json")

    assert response.status_code == 400
    assert [code for code, _ in codes(response)] == ["max_value" if delta > 0 else "min_value"]
    assert StockLevel.objects.get(pk=level.pk).on_hand == 10
    assert InventoryMovement.objects.count() == movements
    assert not InboundMessage.objects.exists()


# --- strict paths and pages -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orders/" + "A" * 65 + "/",
        "/api/v1/orders/OMS%20X/",
        "/api/v1/orders/%C3%A9/",
        "/api/v1/orders/OMS-1/holds/99999999999/release/",
        "/api/v1/orders/OMS-1/holds/0/release/",
        "/api/v1/orders/OMS-1/holds/007/release/",
    ],
)
def test_a_path_parameter_the_converters_do_not_match_is_404(web_api, url):
    response = web_api.post(url, {}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("page_size", ["0", "201", "abc", "1.5", "-1", "9" * 5000])
def test_a_page_size_out_of_range_is_400(web_api, page_size):
    response = web_api.get(f"{ORDERS}?page_size={page_size}")

    assert response.status_code == 400
    assert codes(response) == [("invalid_page_size", "page_size")]


# --- node feedback keeps only what it validated -----------------------------------------


@pytest.fixture
def released(db, django_capture_on_commit_callbacks):
    node = NodeFactory(code="dc-east")
    stocked(node, ProductFactory(sku="TEE-1"), on_hand=10)
    order = captured_order(skus=["TEE-1"], quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    api = bearer_client(create_api_client(node_code="dc-east", name="wms").key)
    return FulfillmentOrder.objects.get(order=order), api


def test_node_feedback_logs_the_validated_message_not_the_raw_body(released):
    fo, api = released

    response = api.post(
        f"/api/v1/fulfillments/{fo.number}/pack/",
        {"message_id": "p-1", "lines": [{"line_id": fo.lines.get().pk, "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 200
    assert InboundMessage.objects.get(message_id="p-1").payload == {
        "message_id": "p-1",
        "lines": [{"line_id": fo.lines.get().pk, "quantity": 1}],
        "short_reason": "",
    }


def test_node_feedback_with_a_junk_key_is_refused_and_logs_nothing(released):
    fo, api = released

    response = api.post(
        f"/api/v1/fulfillments/{fo.number}/accept/",
        {"message_id": "a-1", "P": {"g": {"\x94": -1999118098333708800}}},
        format="json",
    )

    assert response.status_code == 400
    assert codes(response) == [("unknown_field", "P")]
    assert not InboundMessage.objects.exists()
    assert FulfillmentOrder.objects.get(pk=fo.pk).status == "released"


# --- signed webhooks read their raw body: the same limits --------------------------------


@pytest.mark.parametrize(
    ("_case", "body", "code"),
    [
        ("NUL in a key", b'{"object": "Event", "\\u0000": 1}', "nul_character"),
        ("NUL in a value", b'{"object": "Event\\u0000"}', "nul_character"),
        ("deep nesting", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nesting_too_deep"),
    ],
)
def test_a_signed_carrier_webhook_with_bad_input_is_400_and_keeps_nothing(
    settings, _case, body, code
):
    settings.OMS_CARRIER_WEBHOOK_SECRETS = {"easypost": "whsec"}
    signature = hmac.new(b"whsec", body, hashlib.sha256).hexdigest()

    response = APIClient().post(
        "/api/v1/webhooks/carriers/easypost/",
        data=body,
        content_type="application/json",
        HTTP_X_HMAC_SIGNATURE=f"hmac-sha256-hex={signature}",
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not InboundMessage.objects.exists()
