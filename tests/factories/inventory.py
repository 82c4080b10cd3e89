from decimal import Decimal

import factory

from inventory.models import Node, NodeKind, Product, StockLevel


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"node-{n:03d}")
    name = factory.Sequence(lambda n: f"Node {n}")
    kind = NodeKind.DISTRIBUTION_CENTER
    city = "Columbus"
    region = "OH"
    postal_code = "43215"
    latitude = Decimal("39.961176")
    longitude = Decimal("-82.998794")


class StoreFactory(NodeFactory):
    kind = NodeKind.STORE
    can_pickup = True
    can_curbside = True
    can_ship_from_store = True
    can_accept_returns = True


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    node = factory.SubFactory(NodeFactory)
    product = factory.SubFactory(ProductFactory)
    on_hand = 10
