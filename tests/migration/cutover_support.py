"""Shared scenery for the cutover tests: a small network with stock, two people, plans."""

from decimal import Decimal

from migration.services.cutover import approve_plan, propose_plan
from tests.factories.inventory import NodeFactory, ProductFactory, stocked


def network():
    """Columbus DC (near the test address), Reno DC (far), each with 100 TEE and 100 MUG."""
    east = NodeFactory(
        code="dc-east", latitude=Decimal("39.8700"), longitude=Decimal("-82.9500"), priority=10
    )
    west = NodeFactory(
        code="dc-west", latitude=Decimal("39.5300"), longitude=Decimal("-119.7500"), priority=10
    )
    products = [ProductFactory(sku="TEE"), ProductFactory(sku="MUG")]
    for node in (east, west):
        for product in products:
            stocked(node, product, on_hand=100)
    return {"east": east, "west": west}


def set_mode(channel_code, mode, *, author, approver, share=None, **narrowing):
    plan = propose_plan(
        channel_code=channel_code,
        mode=mode,
        share_percent=share,
        narrowing=narrowing or None,
        author=author,
    )
    return approve_plan(plan_id=plan.pk, approver=approver).plan
