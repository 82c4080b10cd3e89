"""Building blocks for the returns tests: a DC that takes returns, a store, and orders captured,
routed and shipped the production way (capture_order → orchestrate_order → ship_with_carrier)."""

from decimal import Decimal

from django.test import TestCase
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.labels import ship_with_carrier
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import InventoryMovement, Node, NodeConnector, StockLevel
from oms.core.actors import Actor
from orders.models import Order
from orders.services.capture import LineInput
from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory, stocked
from tests.factories.orders import captured_order

SYSTEM = Actor.system("test")


def network() -> dict[str, Node]:
    return {
        "dc": NodeFactory(
            code="dc-columbus",
            name="DC Columbus",
            connector=NodeConnector.API,
            can_accept_returns=True,
            address_line1="1 Warehouse Way",
            priority=10,
        ),
        "store": StoreFactory(
            code="store-5th-ave",
            name="Fifth Avenue",
            connector=NodeConnector.API,
            address_line1="500 5th Ave",
            city="New York",
            region="NY",
            postal_code="10110",
            latitude=Decimal("40.7540"),
            longitude=Decimal("-73.9840"),
            priority=90,
        ),
    }


def shipped_order(
    dc: Node,
    *,
    external_id: str,
    lines: list[tuple[str, int, str]],
    shipping_total: str = "0",
    tax: str = "0",
) -> Order:
    """An order of `lines` (sku, quantity, unit price) stocked at `dc`, routed there and
    shipped with the simulated carrier. `tax` is per line."""
    for sku, _quantity, _ in lines:
        product = ProductFactory(sku=sku)
        if not StockLevel.objects.filter(node=dc, product=product).exists():
            stocked(dc, product, on_hand=10)
    order = captured_order(
        external_id=external_id,
        lines=[
            LineInput(sku=sku, quantity=q, unit_price=Decimal(price), tax=Decimal(tax))
            for sku, q, price in lines
        ],
        shipping_total=Decimal(shipping_total),
        payment_status="authorized",
        payment_reference="auth_1",
        placed_at=timezone.now(),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):  # the release runs on commit
        orchestrate_order(order_id=order.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the capture runs on commit
        for fo in FulfillmentOrder.objects.filter(order=order):
            ship_with_carrier(fulfillment_id=fo.pk, actor=SYSTEM)
    order.refresh_from_db()
    return order


def stock(node: Node, sku: str) -> tuple[int, int]:
    level = StockLevel.objects.get(node=node, product__sku=sku)
    return level.on_hand, level.reserved


def ledger(node: Node, sku: str, reason: str) -> list[int]:
    return list(
        InventoryMovement.objects.filter(node=node, product__sku=sku, reason=reason)
        .order_by("id")
        .values_list("delta_on_hand", flat=True)
    )


def ensure_default_policy() -> None:
    """The migration's default policy (version 1), made again when a transactional test on
    the same database flushed it."""
    from returns.models import ReturnPolicy
    from returns.policy import create_return_policy

    if not ReturnPolicy.objects.filter(channel__isnull=True).exists():
        create_return_policy(
            channel=None,
            terms={
                "appeasement_limits": {
                    "customer_service": "25.00",
                    "finance": "250.00",
                    "ops_admin": "250.00",
                    "api_client": "0",
                }
            },
            actor=SYSTEM,
        )
