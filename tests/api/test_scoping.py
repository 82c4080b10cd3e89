"""Scope matrix: an API client sees only its own channel's orders; any other order is a 404."""

import pytest

from tests.factories.inventory import ProductFactory
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("detail", "get", "/api/v1/orders/{number}/"),
    ("events", "get", "/api/v1/orders/{number}/events/"),
    ("place hold", "post", "/api/v1/orders/{number}/holds/"),
]


@pytest.fixture
def orders(web_channel, pos_channel):
    ProductFactory(sku="SKU-A")
    return {
        "web": captured_order(web_channel, external_id="E-1", skus=["SKU-A"]),
        "pos": captured_order(pos_channel, external_id="E-1", skus=["SKU-A"]),
    }


@pytest.mark.parametrize(("_case", "method", "url"), ENDPOINTS)
@pytest.mark.parametrize(
    ("principal", "owner", "expected"),
    [
        ("web", "web", "allowed"),
        ("web", "pos", 404),
        ("pos", "pos", "allowed"),
        ("pos", "web", 404),
    ],
)
def test_scope_matrix(request, orders, _case, method, url, principal, owner, expected):
    api = request.getfixturevalue(f"{principal}_api")
    number = orders[owner].number

    response = getattr(api, method)(url.format(number=number), {"kind": "manual"}, format="json")

    assert response.status_code in ((200, 201) if expected == "allowed" else (expected,))


def test_list_shows_only_own_channel(web_api, pos_api, orders):
    web = web_api.get("/api/v1/orders/").json()["results"]
    pos = pos_api.get("/api/v1/orders/").json()["results"]

    assert [o["number"] for o in web] == [orders["web"].number]
    assert [o["number"] for o in pos] == [orders["pos"].number]


def test_filter_by_external_id_does_not_leak_other_channels(web_api, orders):
    results = web_api.get("/api/v1/orders/?external_id=E-1").json()["results"]

    assert [o["channel"] for o in results] == ["web"]
