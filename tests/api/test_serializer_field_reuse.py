"""ReusedFieldsMixin (oms/api/serializers.py): the capture's input and output serializers build
their fields once per class and thread. Reusing them must never carry one order's or one
request's state into another: interleaved instances render what DRF's own per-instance fields
render, errors belong to their own payload, and threads never share field objects."""

import threading

import pytest

from orders.api.serializers import OrderCreateInputSerializer, OrderOutputSerializer
from orders.models import Order
from tests.api.test_orders_api import order_body
from tests.factories.inventory import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _products(db):
    for sku in ("TEE-1", "MUG-2"):
        ProductFactory(sku=sku)


def fresh(order: Order) -> dict:
    """DRF's own rendering: with a context the mixin builds per-instance fields."""
    return OrderOutputSerializer(order, context={"fresh": True}).data


def capture_two(web_api) -> tuple[Order, Order]:
    usd = web_api.post("/api/v1/orders/", order_body("R-USD"), format="json")
    jpy_body = order_body(
        "R-JPY",
        currency="JPY",
        shipping_total="500",
        grand_total=None,
        lines=[{"sku": "TEE-1", "quantity": 1, "unit_price": "1200"}],
    )
    jpy_body.pop("grand_total")
    jpy = web_api.post("/api/v1/orders/", jpy_body, format="json")
    assert (usd.status_code, jpy.status_code) == (201, 201), (usd.content, jpy.content)
    return Order.objects.get(external_id="R-USD"), Order.objects.get(external_id="R-JPY")


def test_interleaved_output_serializers_render_their_own_order(web_api):
    usd, jpy = capture_two(web_api)
    first, second = OrderOutputSerializer(usd), OrderOutputSerializer(jpy)

    # fields bound to `first`, then re-bound to `second`, then used by `first` again
    assert first.fields is second.fields
    second_data = second.data
    first_data = first.data

    assert first_data == fresh(usd)
    assert second_data == fresh(jpy)
    assert first_data["grand_total"] == "56.18"
    assert second_data["lines"][0]["unit_price"] == "1200"
    assert first_data["lines"][0]["unit_price"] == "19.99"


def test_input_errors_belong_to_their_own_payload():
    bad_quantity = order_body(lines=[{"sku": "TEE-1", "quantity": 0, "unit_price": "1.00"}])
    unknown_key = order_body(colour="red")

    first = OrderCreateInputSerializer(data=bad_quantity)
    second = OrderCreateInputSerializer(data=unknown_key)
    third = OrderCreateInputSerializer(data=order_body())

    assert not first.is_valid()
    assert not second.is_valid()
    assert third.is_valid(), third.errors
    assert set(first.errors) == {"lines"}
    assert set(second.errors) == {"colour"}
    assert third.validated_data["external_id"] == "W-100"


def test_threads_never_share_field_objects():
    seen: dict[str, object] = {}

    def build(name: str) -> None:
        serializer = OrderCreateInputSerializer(data=order_body())
        serializer.is_valid()
        seen[name] = serializer.fields

    here = OrderCreateInputSerializer(data=order_body()).fields
    thread = threading.Thread(target=build, args=("other",))
    thread.start()
    thread.join()

    assert seen["other"] is not here
    assert OrderCreateInputSerializer(data=order_body()).fields is here
