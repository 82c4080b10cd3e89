"""The order API as a contract: status, body, resulting rows and events."""

import json
from decimal import Decimal

import pytest

from oms.events.models import Event
from orders.models import Order
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory, StoreFactory
from tests.factories.orders import captured_order, issue_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def skus(db):
    return [ProductFactory(sku=s).sku for s in ("TEE-1", "MUG-2", "CAP-3")]


ADDRESS = {
    "line1": "600 Pennsylvania Ave",
    "city": "Washington",
    "region": "DC",
    "postal_code": "20500",
    "country": "US",
}


def order_body(external_id="W-100", **overrides):
    body = {
        "external_id": external_id,
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "customer": {"name": "Grace Hopper", "email": "Grace@Example.com", "phone": "+1 555 0100"},
        "delivery": {"method": "ship", "service_level": "express"},
        "shipping_address": {
            "line1": "600 Pennsylvania Ave",
            "city": "Washington",
            "region": "DC",
            "postal_code": "20500",
            "country": "US",
        },
        "lines": [
            {"sku": "TEE-1", "quantity": 2, "unit_price": "19.99", "tax": "3.20"},
            {"sku": "mug-2", "quantity": 1, "unit_price": "8.00"},
        ],
        "shipping_total": "5.00",
        "grand_total": "56.18",
        "payment": {"status": "authorized", "method": "card", "reference": "pi_123"},
    }
    body.update(overrides)
    return body


def test_post_creates_the_order_and_returns_it(web_api, skus):
    # when
    response = web_api.post("/api/v1/orders/", order_body(), format="json")

    # then
    assert response.status_code == 201
    body = response.json()
    assert body["number"] == Order.objects.get().number
    assert body["status"] == "created"
    assert body["channel"] == "web"
    assert (body["subtotal"], body["tax_total"], body["grand_total"]) == ("47.98", "3.20", "56.18")
    assert body["customer"] == {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "phone": "+1 555 0100",
    }
    assert body["delivery"] == {"method": "ship", "service_level": "express", "pickup_node": None}
    assert body["payment"] == {"status": "authorized", "method": "card", "reference": "pi_123"}
    assert [(line["sku"], line["quantity"], line["total"]) for line in body["lines"]] == [
        ("TEE-1", 2, "39.98"),
        ("MUG-2", 1, "8.00"),
    ]
    assert list(Event.objects.values_list("type", flat=True)) == ["order.created"]


def test_get_order_and_its_events(web_api, skus):
    # given
    number = web_api.post("/api/v1/orders/", order_body(), format="json").json()["number"]

    # when
    detail = web_api.get(f"/api/v1/orders/{number}/")
    events = web_api.get(f"/api/v1/orders/{number}/events/")

    # then
    assert detail.status_code == 200
    assert detail.json()["external_id"] == "W-100"
    assert events.status_code == 200
    [created] = events.json()
    assert (created["seq"], created["type"], created["schema_version"]) == (1, "order.created", 1)
    assert created["actor"]["kind"] == "api_client"
    assert created["payload"]["order"]["number"] == number


def test_list_filters_and_paginates_with_a_cursor(web_api, web_channel, skus):
    # given
    for i in range(3):
        captured_order(
            web_channel, external_id=f"A-{i}", skus=["TEE-1"], customer_email=f"a{i}@example.com"
        )

    # when
    page1 = web_api.get("/api/v1/orders/?page_size=2").json()
    page2 = web_api.get(page1["next"]).json()
    by_email = web_api.get("/api/v1/orders/?email=A1@example.com").json()
    by_external = web_api.get("/api/v1/orders/?external_id=A-2").json()
    by_status = web_api.get("/api/v1/orders/?status=cancelled").json()
    bad_filter = web_api.get("/api/v1/orders/?placed_after=yesterday")

    # then
    assert [o["external_id"] for o in page1["results"]] == ["A-2", "A-1"]
    assert [o["external_id"] for o in page2["results"]] == ["A-0"]
    assert page2["next"] is None
    assert [o["external_id"] for o in by_email["results"]] == ["A-1"]
    assert [o["external_id"] for o in by_external["results"]] == ["A-2"]
    assert by_status["results"] == []
    assert bad_filter.status_code == 400
    assert bad_filter.json()["code"] == "validation_failed"
    assert bad_filter.json()["errors"][0]["field"] == "placed_after"


def test_list_filters_by_placed_at_range(web_api, web_channel, skus):
    from datetime import UTC, datetime

    captured_order(
        web_channel, external_id="OLD", skus=["TEE-1"], placed_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    captured_order(
        web_channel, external_id="NEW", skus=["TEE-1"], placed_at=datetime(2026, 6, 1, tzinfo=UTC)
    )

    response = web_api.get(
        "/api/v1/orders/?placed_after=2026-03-01T00:00:00Z&placed_before=2026-12-31T00:00:00Z"
    )

    assert [o["external_id"] for o in response.json()["results"]] == ["NEW"]


def test_duplicate_external_id_is_409_naming_the_existing_order(web_api, skus):
    first = web_api.post("/api/v1/orders/", order_body(), format="json").json()

    response = web_api.post("/api/v1/orders/", order_body(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_order"
    assert response.json()["extra"]["number"] == first["number"]
    assert first["number"] in response.json()["detail"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("_case", "overrides", "status", "expected"),
    [
        (
            "unknown sku",
            {"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "1.00"}], "grand_total": None},
            400,
            [("unknown_sku", "lines[0].sku")],
        ),
        (
            "quantity zero",
            {"lines": [{"sku": "TEE-1", "quantity": 0, "unit_price": "1.00"}]},
            400,
            [("quantity_not_positive", "lines[0].quantity")],
        ),
        (
            "negative quantity on 2nd line",
            {
                "lines": [
                    {"sku": "TEE-1", "quantity": 1, "unit_price": "1.00"},
                    {"sku": "TEE-1", "quantity": -3, "unit_price": "1.00"},
                ]
            },
            400,
            [("quantity_not_positive", "lines[1].quantity")],
        ),
        (
            "three decimals",
            {"shipping_total": "5.001", "grand_total": None},
            400,
            [("invalid_money_scale", "shipping_total")],
        ),
        (
            "unknown currency",
            {"currency": "ABC", "grand_total": None},
            400,
            [("unknown_currency", "currency")],
        ),
        ("lowercase currency", {"currency": "usd"}, 400, [("invalid", "currency")]),
        (
            "missing address",
            {"shipping_address": None},
            400,
            [("shipping_address_required", "shipping_address")],
        ),
        ("no lines", {"lines": []}, 400, [("empty", "lines")]),
        ("wrong total", {"grand_total": "1.00"}, 400, [("total_mismatch", "grand_total")]),
        (
            "string quantity",
            {"lines": [{"sku": "TEE-1", "quantity": "two", "unit_price": "1"}]},
            400,
            [("invalid", "lines[0].quantity")],
        ),
        ("missing customer", {"customer": None}, 400, [("required", "customer")]),
        (
            "JPY with trailing zeros beyond its 0 minor units",
            {
                "currency": "JPY",
                "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "1200.00"}],
                "shipping_total": "500",
                "grand_total": None,
            },
            400,
            [("invalid_money_scale", "lines[0].unit_price")],
        ),
        (
            "USD with a third decimal that is zero",
            {"shipping_total": "5.000", "grand_total": None},
            400,
            [("invalid_money_scale", "shipping_total")],
        ),
        (
            "country XX",
            {"shipping_address": {**ADDRESS, "country": "XX"}},
            400,
            [("unknown_country", "shipping_address.country")],
        ),
        (
            "billing country ZZ (CLDR's unknown region)",
            {"billing_address": {**ADDRESS, "country": "ZZ"}},
            400,
            [("unknown_country", "billing_address.country")],
        ),
        (
            "unit price over the storable limit",
            {
                "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "10000000000000000.00"}],
                "grand_total": None,
            },
            400,
            [("amount_out_of_range", "lines[0].unit_price")],
        ),
    ],
)
def test_bad_input_gets_one_error_shape(web_api, skus, _case, overrides, status, expected):
    # given
    body = order_body(**overrides)
    body = {k: v for k, v in body.items() if v is not None}

    # when
    response = web_api.post("/api/v1/orders/", body, format="json")

    # then
    assert response.status_code == status
    payload = response.json()
    assert payload["code"] == "validation_failed"
    assert [(e["code"], e["field"]) for e in payload["errors"]] == expected
    assert all(e["detail"] for e in payload["errors"])
    assert "extra" in payload
    assert not Order.objects.exists()


def test_pickup_at_a_node_that_does_not_do_pickups(web_api, skus):
    StoreFactory(code="store-x", can_pickup=False)
    body = order_body(delivery={"method": "pickup", "pickup_node": "store-x"})
    del body["shipping_address"]

    response = web_api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("node_does_not_pickup", "delivery.pickup_node")
    ]


def test_malformed_json_is_400(web_api):
    response = web_api.post(
        "/api/v1/orders/", data='{"external_id": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_non_object_json_is_400(web_api):
    response = web_api.post("/api/v1/orders/", data="[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


def test_body_too_large_is_413(web_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    body = order_body(notes="x" * 1990)

    response = web_api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not Order.objects.exists()


def test_wrong_content_type_is_415(web_api):
    response = web_api.post(
        "/api/v1/orders/", data="external_id=1", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_floats_are_read_as_exact_decimals(web_api, skus):
    body = order_body(
        lines=[{"sku": "TEE-1", "quantity": 3, "unit_price": 0.1}],
        shipping_total=0.2,
        grand_total=0.5,
    )
    raw = json.dumps(body)

    response = web_api.post("/api/v1/orders/", data=raw, content_type="application/json")

    assert response.status_code == 201
    assert Order.objects.get().grand_total == Decimal("0.5")


@pytest.mark.parametrize(
    ("_case", "header", "code"),
    [
        ("no header", None, "not_authenticated"),
        ("unknown key", "Bearer oms_abc_def", "invalid_api_key"),
        ("not a key", "Bearer hello", "invalid_api_key"),
        ("basic auth", "Basic dXNlcjpwYXNz", "invalid_authorization_header"),
    ],
)
def test_requests_without_a_valid_key_are_401(db, _case, header, code):
    client = bearer_client("unused")
    client.credentials(**({"HTTP_AUTHORIZATION": header} if header else {}))

    response = client.get("/api/v1/orders/")

    assert response.status_code == 401
    assert response.json()["code"] == code


def test_revoked_key_is_refused(web_channel):
    from orders.services.api_clients import revoke_api_client

    issued = issue_api_key(web_channel)
    revoke_api_client(client_id=issued.client.id)

    response = bearer_client(issued.key).get("/api/v1/orders/")

    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_unknown_order_is_404(web_api):
    response = web_api.get("/api/v1/orders/OMS-0000-0000/")

    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


def test_correlation_id_is_echoed_and_recorded_on_events(web_api, skus):
    response = web_api.post(
        "/api/v1/orders/", order_body(), format="json", HTTP_X_CORRELATION_ID="checkout-42"
    )

    assert response["X-Correlation-ID"] == "checkout-42"
    assert Event.objects.get().correlation_id == "checkout-42"


def test_correlation_id_is_generated_when_absent_or_malformed(web_api, skus):
    response = web_api.post(
        "/api/v1/orders/", order_body(), format="json", HTTP_X_CORRELATION_ID="bad id with spaces"
    )

    generated = response["X-Correlation-ID"]
    assert len(generated) == 32
    assert generated != "bad id with spaces"
    assert Event.objects.get().correlation_id == generated


def test_a_fraud_hold_asked_for_at_capture_is_in_the_answer_and_opens_a_case(web_api, skus):
    # when
    response = web_api.post(
        "/api/v1/orders/",
        order_body(holds=[{"kind": "fraud", "reason": "score 97"}]),
        format="json",
    )

    # then: the answer shows the hold (as GET does), and the console has a case for it
    assert response.status_code == 201
    created = response.json()
    shown = web_api.get(f"/api/v1/orders/{created['number']}/").json()
    assert created["holds"] == shown["holds"]
    assert [(h["kind"], h["reason"], h["status"]) for h in created["holds"]] == [
        ("fraud", "score 97", "active")
    ]
    order = Order.objects.get()
    assert list(Event.objects.filter(stream=order.stream).values_list("type", flat=True)) == [
        "order.created",
        "order.hold_placed",
        "exception.raised",
    ]
    case = order.exception_cases.get()
    assert (case.kind, case.summary, case.details["hold_id"]) == (
        "fraud_hold",
        "score 97",
        order.holds.get().pk,
    )


def test_a_key_revoked_while_in_use_is_refused_on_its_very_next_call(web_channel):
    """The key's row is read on every request (its SQL is compiled once per process,
    oms/core/queries.py CompiledLookup; the row itself is never cached): a revocation takes
    effect at once, and the row still comes with its channel in the same statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from oms.api.authentication import ApiKeyAuthentication
    from orders.services.api_clients import revoke_api_client

    issued = issue_api_key(web_channel)
    api = bearer_client(issued.key)
    assert api.get("/api/v1/orders/").status_code == 200

    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {issued.key}"))
    with CaptureQueriesContext(connection) as ctx:
        _, client = ApiKeyAuthentication().authenticate(request)
        assert client.channel.code == web_channel.code
    assert len(ctx.captured_queries) == 1
    assert "orders_channel" in ctx.captured_queries[0]["sql"]

    revoke_api_client(client_id=issued.client.id)

    response = api.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"
