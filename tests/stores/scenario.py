"""Building blocks for the store-screen tests (tests/stores and tests/e2e): stores at real
coordinates, associates with access, and orders captured and orchestrated the production way, so
their fulfillment orders arrive `released` at the store (the API connector releases at once)."""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import Node, NodeConnector, Product
from orders.models import Order
from stores.models import StoreMembership, StoreRole
from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory, stocked
from tests.factories.orders import ADDRESS, captured_order

PASSWORD = "store-test-password"

NYC_ADDRESS = ADDRESS.__class__(
    name="Grace Hopper",
    line1="350 5th Ave",
    city="New York",
    region="NY",
    postal_code="10118",
    country="US",
)

OnCommit = Callable[[], AbstractContextManager[object]]


def store(code: str, name: str, latitude: str, longitude: str, **fields: object) -> Node:
    return StoreFactory(
        code=code,
        name=name,
        latitude=Decimal(latitude),
        longitude=Decimal(longitude),
        connector=NodeConnector.API,
        **fields,
    )


def network() -> dict[str, Node]:
    """Two stores (Manhattan, Brooklyn) and a distribution center far away in Reno."""
    return {
        "a": store(
            "store-5th-ave",
            "Fifth Avenue",
            "40.7540",
            "-73.9840",
            address_line1="500 5th Ave",
            city="New York",
            region="NY",
            postal_code="10110",
            timezone="America/New_York",
        ),
        "b": store(
            "store-brooklyn",
            "Brooklyn Heights",
            "40.6960",
            "-73.9950",
            address_line1="100 Court St",
            city="Brooklyn",
            region="NY",
            postal_code="11201",
            timezone="America/New_York",
        ),
        "dc": NodeFactory(
            code="dc-reno",
            name="DC Reno",
            latitude=Decimal("39.5300"),
            longitude=Decimal("-119.7500"),
            connector=NodeConnector.API,
        ),
    }


def products() -> dict[str, Product]:
    return {
        "TEE": ProductFactory(sku="TEE-BLK-M", name="Black tee, M", weight_grams=200),
        "MUG": ProductFactory(sku="MUG-WHT", name="White mug", weight_grams=400),
    }


def associate(username: str, *stores: Node, role: str = StoreRole.ASSOCIATE):
    """A user (not staff: associates get no admin) in store_associate with a membership of
    each store. The group comes from a data migration; transactional tests flush it away, so it
    is fetched or made here."""
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD
    )
    group, _ = Group.objects.get_or_create(name="store_associate")
    user.groups.add(group)
    for node in stores:
        StoreMembership.objects.create(user=user, node=node, role=role)
    return user


def routed_order(
    *,
    external_id: str,
    skus: list[str],
    quantity: int = 1,
    pickup_at: Node | None = None,
    curbside: bool = False,
    customer_name: str = "Ada Lovelace",
    placed_hours_ago: float = 2,
    on_commit: OnCommit = nullcontext,
) -> Order:
    """Capture and orchestrate an order: a pickup (or curbside) at `pickup_at`, else shipped to
    Manhattan. `on_commit` runs the on-commit work inside a test transaction (pass
    django_capture_on_commit_callbacks with execute=True); transactional tests need nothing."""
    delivery = (
        {
            "delivery_method": "curbside" if curbside else "pickup",
            "pickup_node_code": pickup_at.code,
            "shipping_address": None,
        }
        if pickup_at is not None
        else {"shipping_address": NYC_ADDRESS}
    )
    with on_commit():
        order = captured_order(
            external_id=external_id,
            skus=skus,
            quantity=quantity,
            customer_name=customer_name,
            placed_at=timezone.now() - timedelta(hours=placed_hours_ago),
            **delivery,
        )
        orchestrate_order(order_id=order.pk)
    return order


def fulfillment_at(order: Order, node: Node) -> FulfillmentOrder:
    return FulfillmentOrder.objects.filter(order=order, node=node).order_by("id").get()


def stock(node: Node, product: Product, on_hand: int = 10) -> None:
    stocked(node, product, on_hand=on_hand)
