from decimal import Decimal

import factory
from django.utils import timezone

from fulfillment.connectors.base import (
    NodeRequestPayload,
    ReleaseAck,
    ReleasePayload,
    register_connector,
)
from inventory.models import (
    InventoryMovement,
    MovementReason,
    Node,
    NodeKind,
    Product,
    StockLevel,
)
from inventory.services.ledger import InitialStock, set_initial_stock
from oms.core.actors import Actor


class PushedNodeSystem:
    """A node system oms pushes work to (as the X12 and HTTP connectors do), standing in for
    one tests cannot reach: it keeps what it was sent. A node on it (connector="pushed") keeps
    its fulfillment orders pending until a release task sends them, where a node on the API
    connector is released in orchestration's own transaction."""

    pushes = True

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, payload: ReleasePayload) -> ReleaseAck:
        self.sent.append(payload.number)
        return ReleaseAck(reference=f"PUSHED-{payload.number}")

    def after_release(self, fulfillment_id: int, settings: dict) -> None:
        return None

    def send_request(self, payload: NodeRequestPayload) -> None:
        return None


PUSHED = PushedNodeSystem()
register_connector("pushed", PUSHED)


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


def stocked(
    node: Node | None = None,
    product: Product | None = None,
    *,
    on_hand: int = 10,
    safety_stock: int = 0,
) -> StockLevel:
    """A stock level created the way production creates one: set_initial_stock(), so the
    opening count is in the ledger (StockLevelFactory skips the ledger)."""
    node = node or NodeFactory()
    product = product or ProductFactory()
    set_initial_stock(
        node_id=node.pk,
        levels=[InitialStock(product_id=product.pk, on_hand=on_hand, safety_stock=safety_stock)],
        actor=Actor.system("test"),
        reported_at=timezone.now(),
    )
    return StockLevel.objects.get(node=node, product=product)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row without capture_order(): no order.created, no orchestration on commit.
    For inventory tests that only need lines to reserve against."""

    class Meta:
        model = "orders.Order"

    number = factory.Sequence(lambda n: f"OMS-TEST-{n:04d}")
    channel = factory.SubFactory("tests.factories.orders.ChannelFactory", code="web")
    external_id = factory.Sequence(lambda n: f"EXT-{n}")
    placed_at = factory.LazyFunction(timezone.now)
    currency = "USD"
    customer_name = "Ada Lovelace"
    ship_line1 = "1 Main St"
    ship_city = "Columbus"
    ship_postal_code = "43215"
    ship_country = "US"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderLine"

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda o: o.product.sku)
    name = factory.LazyAttribute(lambda o: o.product.name)
    quantity = 1
    unit_price = Decimal("10.00")
    total = Decimal("10.00")


class InventoryMovementFactory(factory.django.DjangoModelFactory):
    """A raw ledger row. Services write the ledger; tests use this only to fake a writer that
    goes around them (the deliberately broken reservation of the race test)."""

    class Meta:
        model = InventoryMovement

    node = factory.SubFactory(NodeFactory)
    product = factory.SubFactory(ProductFactory)
    reason = MovementReason.RESERVATION
    actor_kind = "system"
    actor_label = "test"
    occurred_at = factory.LazyFunction(timezone.now)


def two_dcs(*, sku: str = "TEE", on_hand: int = 5, connector: str = "api"):
    """dc-east (Columbus, priority 10) and dc-west (Reno, priority 20), each with `on_hand`
    units of one product, on `connector`."""
    product = ProductFactory(sku=sku)
    east = NodeFactory(code="dc-east", priority=10, connector=connector)
    west = NodeFactory(
        code="dc-west",
        priority=20,
        latitude=Decimal("39.53"),
        longitude=Decimal("-119.75"),
        connector=connector,
    )
    stocked(east, product, on_hand=on_hand)
    stocked(west, product, on_hand=on_hand)
    return east, west


def on_hand(levels: dict) -> dict[str, int]:
    """{key: on_hand} of stock levels, re-read from the database."""
    for level in levels.values():
        level.refresh_from_db()
    return {sku: level.on_hand for sku, level in levels.items()}
