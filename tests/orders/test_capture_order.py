from decimal import Decimal

import pytest
from django.db import transaction

from oms.core.actors import Actor
from oms.core.errors import InvalidInput
from oms.events.models import Event
from orders.exceptions import DuplicateOrder
from orders.models import LineStatus, Order, OrderStatus
from orders.services.capture import AddressInput, LineInput, capture_order
from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory
from tests.factories.orders import order_input

pytestmark = pytest.mark.django_db


def _codes(exc: InvalidInput) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in exc.errors]


def test_capture_creates_order_lines_totals_and_one_event(web_channel):
    # given
    ProductFactory(sku="TEE-BLK-M", name="Tee black M")
    ProductFactory(sku="MUG-01", name="Mug")
    data = order_input(
        skus=[],
        lines=[
            LineInput(
                sku=" tee-blk-m ",
                quantity=2,
                unit_price=Decimal("19.99"),
                discount=Decimal("4.00"),
                tax=Decimal("2.88"),
            ),
            LineInput(sku="MUG-01", quantity=1, unit_price=Decimal("8.50"), tax=Decimal("0.68")),
        ],
        shipping_total=Decimal("4.99"),
        shipping_tax=Decimal("0.40"),
        expected_grand_total=Decimal("53.43"),
    )

    # when
    order = capture_order(channel=web_channel, data=data, actor=Actor.system("test"))

    # then
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED
    assert order.number.startswith("OMS-")
    assert len(order.number) == 13
    assert (order.subtotal, order.discount_total, order.tax_total, order.grand_total) == (
        Decimal("44.48"),
        Decimal("4.00"),
        Decimal("3.96"),
        Decimal("53.43"),
    )
    lines = list(order.lines.order_by("line_number"))
    assert [(line.sku, line.quantity, line.total, line.status) for line in lines] == [
        ("TEE-BLK-M", 2, Decimal("35.98"), LineStatus.OPEN),
        ("MUG-01", 1, Decimal("8.50"), LineStatus.OPEN),
    ]
    events = list(Event.objects.filter(stream=order.stream))
    assert [(e.seq, e.type, e.actor_kind, e.actor_label) for e in events] == [
        (1, "order.created", "system", "test")
    ]
    assert events[0].payload["order"]["grand_total"] == "53.43"
    assert [line["sku"] for line in events[0].payload["lines"]] == ["TEE-BLK-M", "MUG-01"]


def test_capture_schedules_orchestration_on_commit(web_channel, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        order = capture_order(channel=web_channel, data=order_input(), actor=Actor.system())

    # then
    assert len(callbacks) == 1
    assert callbacks[0].args == (order.id,)
    assert callbacks[0].func.__self__.name == "fulfillment.tasks.orchestrate_order_task"


def test_second_capture_with_same_external_id_is_refused_naming_the_first(web_channel):
    # given
    first = capture_order(
        channel=web_channel, data=order_input(external_id="W-9"), actor=Actor.system()
    )

    # when
    with pytest.raises(DuplicateOrder) as caught:
        capture_order(
            channel=web_channel, data=order_input(external_id="W-9"), actor=Actor.system()
        )

    # then
    assert caught.value.code == "duplicate_order"
    assert caught.value.extra == {"number": first.number, "external_id": "W-9"}
    assert Order.objects.count() == 1
    assert Event.objects.count() == 1


def test_same_external_id_in_another_channel_is_a_different_order(web_channel, pos_channel):
    capture_order(channel=web_channel, data=order_input(external_id="X-1"), actor=Actor.system())
    capture_order(channel=pos_channel, data=order_input(external_id="X-1"), actor=Actor.system())

    assert Order.objects.filter(external_id="X-1").count() == 2


@pytest.mark.parametrize(
    ("_case", "overrides", "expected"),
    [
        ("unknown currency", {"currency": "XXQ"}, [("unknown_currency", "currency")]),
        (
            "three decimals in USD",
            {"unit_price": "1.005"},
            [("invalid_money_scale", "lines[0].unit_price")],
        ),
        (
            "cents in JPY",
            {"currency": "JPY", "unit_price": "100.50"},
            [("invalid_money_scale", "lines[0].unit_price")],
        ),
        (
            "total mismatch",
            {"expected_grand_total": Decimal("99.00")},
            [("total_mismatch", "grand_total")],
        ),
        (
            "ship without address",
            {"shipping_address": None},
            [("shipping_address_required", "shipping_address")],
        ),
        (
            "address without city",
            {"shipping_address": AddressInput(line1="1 Main", country="US")},
            [("shipping_address_required", "shipping_address")],
        ),
        (
            "pickup without node",
            {"delivery_method": "pickup"},
            [("pickup_node_required", "delivery.pickup_node")],
        ),
        (
            "pickup at unknown node",
            {"delivery_method": "pickup", "pickup_node_code": "nope"},
            [("unknown_pickup_node", "delivery.pickup_node")],
        ),
    ],
)
def test_invalid_orders_are_refused_with_codes_and_no_side_effect(
    web_channel, _case, overrides, expected
):
    # given
    if "unit_price" in overrides:
        overrides = {**overrides}
        data = order_input(unit_price=overrides.pop("unit_price"), **overrides)
    else:
        data = order_input(**overrides)

    # when
    with pytest.raises(InvalidInput) as caught:
        capture_order(channel=web_channel, data=data, actor=Actor.system())

    # then
    assert _codes(caught.value) == expected
    assert caught.value.http_status == 400
    assert not Order.objects.exists()
    assert not Event.objects.exists()


def test_every_bad_line_is_reported_at_once(web_channel):
    # given
    inactive = ProductFactory(sku="OLD-1", is_active=False)
    data = order_input(
        skus=[],
        lines=[
            LineInput(sku="NOPE-1", quantity=1, unit_price=Decimal("1.00")),
            LineInput(sku=inactive.sku, quantity=1, unit_price=Decimal("1.00")),
            LineInput(
                sku=ProductFactory().sku,
                quantity=1,
                unit_price=Decimal("1.00"),
                discount=Decimal("2.00"),
            ),
        ],
    )

    # when
    with pytest.raises(InvalidInput) as caught:
        capture_order(channel=web_channel, data=data, actor=Actor.system())

    # then
    assert _codes(caught.value) == [
        ("unknown_sku", "lines[0].sku"),
        ("inactive_sku", "lines[1].sku"),
        ("discount_exceeds_price", "lines[2].discount"),
    ]


@pytest.mark.parametrize(
    ("_case", "method", "node_kwargs", "expected_code"),
    [
        ("pickup at a DC", "pickup", {"can_pickup": False}, "node_does_not_pickup"),
        (
            "curbside where there is none",
            "curbside",
            {"can_pickup": True, "can_curbside": False},
            "node_does_not_curbside",
        ),
        (
            "inactive store",
            "pickup",
            {"can_pickup": True, "is_active": False},
            "unknown_pickup_node",
        ),
    ],
)
def test_pickup_node_must_offer_the_delivery_method(
    web_channel, _case, method, node_kwargs, expected_code
):
    # given
    node = NodeFactory(code="n-1", **node_kwargs)

    # when
    with pytest.raises(InvalidInput) as caught:
        capture_order(
            channel=web_channel,
            actor=Actor.system(),
            data=order_input(
                delivery_method=method, pickup_node_code=node.code, shipping_address=None
            ),
        )

    # then
    assert _codes(caught.value) == [(expected_code, "delivery.pickup_node")]


def test_curbside_order_at_a_store_needs_no_shipping_address(web_channel):
    store = StoreFactory(code="store-7")

    order = capture_order(
        channel=web_channel,
        actor=Actor.system(),
        data=order_input(
            delivery_method="curbside", pickup_node_code="store-7", shipping_address=None
        ),
    )

    assert order.pickup_node_id == store.id
    assert order.ship_line1 == ""


def test_a_failure_in_the_middle_of_capture_leaves_no_order_and_no_event(web_channel, monkeypatch):
    # given: the event write fails after the order and its lines were inserted
    def broken_record_event(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("orders.services.capture.record_event", broken_record_event)

    # when
    with pytest.raises(RuntimeError, match="disk full"):
        capture_order(channel=web_channel, data=order_input(), actor=Actor.system())

    # then
    assert not Order.objects.exists()
    assert not Event.objects.exists()


def test_captured_order_renders_its_lines_without_a_query_and_still_filters(
    web_channel, django_assert_num_queries
):
    # given
    order = capture_order(channel=web_channel, data=order_input(), actor=Actor.system())

    # then: the lines written with the order are served from memory...
    with django_assert_num_queries(0):
        assert [line.line_number for line in order.lines.all()] == [1]
    # ...and a chained query still asks the database
    assert order.lines.get().line_number == 1
    assert not order.lines.filter(line_number=2).exists()


def test_a_colliding_order_number_is_drawn_again(web_channel, monkeypatch):
    # given: the first number drawn for the second order is the first order's
    first = capture_order(
        channel=web_channel, data=order_input(external_id="W-1"), actor=Actor.system()
    )
    numbers = iter([first.number, "OMS-0000-0002"])
    monkeypatch.setattr("orders.services.capture.new_order_number", lambda: next(numbers))

    # when
    second = capture_order(
        channel=web_channel, data=order_input(external_id="W-2"), actor=Actor.system()
    )

    # then
    assert second.number == "OMS-0000-0002"
    assert Order.objects.get(external_id="W-2").number == "OMS-0000-0002"
    assert sorted(Event.objects.values_list("stream", flat=True)) == sorted(
        [first.stream, second.stream]
    )


def test_without_a_savepoint_a_failure_leaves_nothing_once_the_caller_rolls_back(
    web_channel, monkeypatch
):
    # given: the event write fails after the order and its lines were inserted
    def broken_record_event(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("orders.services.capture.record_event", broken_record_event)

    # when: the caller's block owns the rollback, as the API's idempotency block does
    with pytest.raises(RuntimeError, match="disk full"), transaction.atomic():
        capture_order(
            channel=web_channel, data=order_input(), actor=Actor.system(), savepoint=False
        )

    # then
    assert not Order.objects.exists()
    assert not Event.objects.exists()
