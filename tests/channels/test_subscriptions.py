"""The outbox subscribes by event type name: the types this build registers. Types added by the
cancellation and returns work (`order.cancelled`, `order.payment_refunded`, `return.received`)
are exercised once they are registered: the fact recorded on the order's stream with the order
as its subject puts the platform call in the outbox in the same transaction."""

import pytest
from django.db import transaction

from channels.handlers import SUBSCRIPTIONS, subscribe
from channels.models import OutboundCall
from channels.services.setup import create_channel
from oms.core.actors import Actor
from oms.events import handlers, registry
from oms.events.services import record_event
from orders.locks import lock_order
from orders.models import Order
from tests.channels.conftest import load
from tests.channels.platforms import SECRET, post

pytestmark = pytest.mark.django_db
REGISTERED = {t.name for t in registry.all_types()}


def test_every_registered_type_of_the_subscriptions_has_its_handler():
    subscribed = subscribe()
    assert "fulfillment.shipped" in subscribed
    assert set(subscribed) == set(SUBSCRIPTIONS) & REGISTERED
    for name in subscribed:
        assert SUBSCRIPTIONS[name] in handlers.handlers_for(name)


@pytest.mark.parametrize(
    ("event_type", "action", "payload"),
    [
        ("order.cancelled", "cancel", {"reason": "customer asked"}),
        ("order.payment_refunded", "refund", {"amount": "10.00", "currency": "USD"}),
    ],
)
def test_an_oms_fact_queues_the_platform_call(client, warehouse, event_type, action, payload):
    if event_type not in REGISTERED:
        pytest.skip(f"{event_type} is not registered in this build yet")
    create_channel(code="shopify-us", platform="shopify", webhook_secret=SECRET)
    post(client, "shopify", "shopify-us", load("shopify/api_ruby__order.json")["order"])
    order = Order.objects.get()
    with transaction.atomic():
        locked = lock_order(order.pk)
        record_event(
            stream=locked.stream,
            type=event_type,
            actor=Actor.system("test"),
            payload=payload,
            subject=locked,
        )
    call = OutboundCall.objects.get(action=action)
    assert call.payload["external_id"] == "450789469"
