"""oms.core.queries.new_row builds the instance Django's constructor builds: every attribute
(defaults included, each a fresh value), a related object cached as its descriptor caches it, the
same ModelState; and it is Django's constructor itself where its plan would not be the same."""

import uuid
from decimal import Decimal

import pytest
from django.db.models.signals import post_init
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, RoutingDecision
from inventory.models import InventoryMovement, Node, Reservation
from oms.api.models import IdempotencyKey
from oms.core.queries import _row_plan, new_row
from oms.events.models import Event
from orders.models import Channel, Order, OrderLine

NOW = timezone.now()
CHANNEL = Channel(id=7, code="web", name="Web")
NODE = Node(id=3, code="dc-east")
ORDER = Order(id=11, number="OMS-1", channel=CHANNEL, placed_at=NOW, currency="USD")

# Every model the hot paths build with new_row, with the keywords they pass (objects by name,
# ids by attname).
CASES = {
    "event": (
        Event,
        {
            "stream": "order:OMS-1",
            "seq": 1,
            "type": "order.created",
            "schema_version": 1,
            "actor_kind": "api_client",
            "actor_id": "5",
            "actor_label": "web",
            "correlation_id": "c-1",
            "causation_id": None,
            "payload": {"order": {"number": "OMS-1"}},
            "occurred_at": NOW,
        },
    ),
    "order": (
        Order,
        {
            "number": "OMS-2",
            "channel": CHANNEL,
            "external_id": "e-2",
            "placed_at": NOW,
            "currency": "USD",
            "subtotal": Decimal("9.99"),
            "customer_email": "a@example.com",
            "pickup_node": None,
            "ship_line1": "1 Main Street",
        },
    ),
    "order line": (
        OrderLine,
        {"order": ORDER, "line_number": 1, "product_id": 4, "sku": "SKU-1", "quantity": 2},
    ),
    "fulfillment order": (
        FulfillmentOrder,
        {"number": "OMS-1-1", "order": ORDER, "node_id": 3, "ship_by": NOW},
    ),
    "fulfillment order line": (
        FulfillmentOrderLine,
        {"fulfillment_id": 9, "order_line_id": 8, "reservation_id": 6, "quantity": 1},
    ),
    "movement": (
        InventoryMovement,
        {
            "node_id": 3,
            "product_id": 4,
            "delta_reserved": 2,
            "reason": "reserve",
            "occurred_at": NOW,
        },
    ),
    "routing decision": (
        RoutingDecision,
        {"order": ORDER, "rule_set": None, "trigger": "capture", "plan": {}, "elapsed_ms": 1.5},
    ),
    "idempotency key": (
        IdempotencyKey,
        {"api_client_id": 2, "key": "k", "method": "POST", "path": "/api/v1/orders/"},
    ),
}

FRESH_EACH_TIME = (uuid.UUID, dict, list)  # callable defaults: a new value per instance


def _attributes(obj):
    return {k: v for k, v in vars(obj).items() if k != "_state"}


@pytest.mark.parametrize("case", CASES)
def test_the_same_instance_as_django_s_constructor(case):
    model, values = CASES[case]
    assert _row_plan(model) is not None  # the fast way, not the fallback
    ours, django_s = new_row(model, **values), model(**values)
    assert type(ours) is model
    mine, theirs = _attributes(ours), _attributes(django_s)
    assert mine.keys() == theirs.keys()
    for name, value in theirs.items():
        if isinstance(value, FRESH_EACH_TIME) and name not in values:
            assert type(mine[name]) is type(value), name
            if isinstance(value, dict | list):
                assert mine[name] == value, name
                assert mine[name] is not value, name
        elif name in {"created_at", "updated_at"} and name not in values:
            assert type(mine[name]) is type(value), name
        else:
            assert mine[name] == value, name
            assert type(mine[name]) is type(value), name
    assert ours._state.adding is django_s._state.adding is True
    assert ours._state.db == django_s._state.db
    assert ours._state.fields_cache.keys() == django_s._state.fields_cache.keys()
    for name, related in django_s._state.fields_cache.items():
        assert ours._state.fields_cache[name] is related


def test_a_related_object_sets_its_id_and_is_cached():
    line = new_row(OrderLine, order=ORDER, line_number=1, product_id=4, sku="S", quantity=1)
    assert line.order_id == 11
    assert line.order is ORDER


def test_defaults_are_fresh_per_instance():
    a, b = new_row(Event, stream="s", seq=1), new_row(Event, stream="s", seq=2)
    assert a.event_id != b.event_id
    assert a.payload == {}
    assert a.payload is not b.payload


def test_a_keyword_that_is_no_field_gets_django_s_error():
    with pytest.raises(TypeError, match="unexpected keyword"):
        new_row(Event, stream="s", seq=1, colour="blue")


def test_a_model_with_its_own_constructor_uses_it():
    """Reservation (django-fsm's ConcurrentTransitionMixin) records its initial state in
    __init__: built by Django's constructor, that record is there."""
    assert _row_plan(Reservation) is None
    reservation = new_row(Reservation, order_line_id=1, node_id=3, product_id=4, quantity=1)
    assert reservation._update_initial_state is not None
    assert (
        vars(reservation).keys()
        == vars(Reservation(order_line_id=1, node_id=3, product_id=4, quantity=1)).keys()
    )


def test_a_post_init_receiver_is_honoured():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Event)
    try:
        event = new_row(Event, stream="s", seq=1)
    finally:
        post_init.disconnect(receiver, sender=Event)
    assert seen == [event]
