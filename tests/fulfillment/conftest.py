from decimal import Decimal

import pytest

from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory


@pytest.fixture
def network(db):
    """Two DCs (east: Columbus OH, west: Reno NV) and a New York store, at real coordinates."""
    return {
        "east": NodeFactory(
            code="dc-east",
            name="DC East",
            latitude=Decimal("39.8700"),
            longitude=Decimal("-82.9500"),
            fulfillment_region="east",
            priority=10,
        ),
        "west": NodeFactory(
            code="dc-west",
            name="DC West",
            latitude=Decimal("39.5300"),
            longitude=Decimal("-119.7500"),
            fulfillment_region="west",
            priority=10,
        ),
        "nyc": StoreFactory(
            code="store-nyc",
            name="Store NYC",
            latitude=Decimal("40.7500"),
            longitude=Decimal("-73.9900"),
            fulfillment_region="east",
            priority=50,
        ),
    }


@pytest.fixture
def products(db):
    return {sku: ProductFactory(sku=sku) for sku in ("TEE", "MUG", "CAP")}
