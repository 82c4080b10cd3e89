"""render_order() (orders/api/order_output.py), the capture's 201 answer, against
OrderOutputSerializer: the same dict and the same bytes once rendered, on orders of every shape
the capture can answer with (holds, pickup, billing address, no address, zero-decimal currency),
and on an order read back after later changes (a released hold, a cancelled quantity)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from oms.core.actors import Actor
from orders.api.order_output import render_order
from orders.api.serializers import (
    HoldOutputSerializer,
    OrderLineOutputSerializer,
    OrderOutputSerializer,
)
from orders.models import DeliveryMethod, Order, OrderLine
from orders.services.capture import AddressInput, LineInput
from orders.services.holds import release_hold
from tests.factories.inventory import ProductFactory, StoreFactory
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


def _same(order):
    fast = render_order(order)
    slow = OrderOutputSerializer(order).data
    assert fast == slow
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)
    assert list(fast) == list(slow)
    return fast


def test_every_field_of_the_serializers_is_rendered():
    order = captured_order(holds=(("fraud", "check"),))
    fast = render_order(order)
    assert list(fast) == list(OrderOutputSerializer.Meta.fields)
    assert list(fast["lines"][0]) == list(OrderLineOutputSerializer.Meta.fields)
    assert list(fast["holds"][0]) == list(HoldOutputSerializer.Meta.fields)


def test_a_shipped_order_with_several_lines():
    a, b = ProductFactory(), ProductFactory(name="Mug 'große' \u2603")
    order = captured_order(
        lines=[
            LineInput(sku=a.sku, quantity=2, unit_price=Decimal("19.99"), tax=Decimal("3.20")),
            LineInput(
                sku=b.sku,
                quantity=1,
                unit_price=Decimal("8"),
                discount=Decimal("0.50"),
                external_line_id="L-2",
            ),
        ],
        shipping_total=Decimal("5.00"),
        customer_phone="+1 555 0100",
        notes="Leave at the door",
        billing_address={"line1": "2 Side St", "city": "Dayton", "country": "US"},
        placed_at=datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC),
    )
    body = _same(order)
    assert body["lines"][1]["external_line_id"] == "L-2"


def test_an_order_with_holds_at_capture():
    order = captured_order(holds=(("fraud", "score 91"), ("address", "")))
    assert len(_same(order)["holds"]) == 2


def test_a_pickup_order_without_an_address_in_a_zero_decimal_currency():
    store = StoreFactory(code="store-7")
    order = captured_order(
        currency="JPY",
        unit_price="1200",
        delivery_method=DeliveryMethod.PICKUP,
        pickup_node_code=store.code,
        shipping_address=None,
    )
    body = _same(order)
    assert body["delivery"]["pickup_node"] == "store-7"
    assert body["shipping_address"] is None


def test_an_order_read_back_after_changes():
    order = captured_order(
        holds=(("fraud", "check"),),
        shipping_address=AddressInput(
            line1="1 Main St", city="Columbus", country="us", latitude=Decimal("39.961176")
        ),
    )
    hold = order.holds.get()
    release_hold(order_id=order.pk, hold_id=hold.pk, actor=Actor.system("test"), note="ok")
    OrderLine.objects.filter(order=order).update(cancelled_quantity=1)

    again = (
        Order.objects.select_related("channel", "pickup_node")
        .prefetch_related("lines", "holds")
        .get(pk=order.pk)
    )
    body = _same(again)
    assert body["holds"][0]["released_at"] is not None
