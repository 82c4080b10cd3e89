from datetime import UTC, datetime
from decimal import Decimal

import factory

from oms.core.actors import Actor
from orders.models import Channel, Order
from orders.services.api_clients import IssuedKey, create_api_client
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order
from tests.factories.inventory import ProductFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


def issue_api_key(channel: Channel | None = None, name: str = "test client") -> IssuedKey:
    """An API client with its plaintext key, created the way production creates one."""
    channel = channel or ChannelFactory(code="web")
    return create_api_client(channel_code=channel.code, name=name)


ADDRESS = AddressInput(
    name="Ada Lovelace",
    line1="1 Main St",
    city="Columbus",
    region="OH",
    postal_code="43215",
    country="US",
)


def order_input(
    *,
    external_id: str = "EXT-1",
    skus: list[str] | None = None,
    quantity: int = 1,
    unit_price: str = "10.00",
    **overrides: object,
) -> OrderInput:
    skus = skus or [ProductFactory().sku]
    fields: dict[str, object] = {
        "external_id": external_id,
        "placed_at": datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        "currency": "USD",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "shipping_address": ADDRESS,
        "lines": [
            LineInput(sku=s, quantity=quantity, unit_price=Decimal(unit_price)) for s in skus
        ],
    }
    fields.update(overrides)
    return OrderInput(**fields)  # type: ignore[arg-type]  # overrides are loosely typed kwargs


def captured_order(channel: Channel | None = None, **kwargs: object) -> Order:
    """An order created through capture_order(), with its lines and order.created event."""
    channel = channel or ChannelFactory(code="web")
    return capture_order(channel=channel, data=order_input(**kwargs), actor=Actor.system("test"))
