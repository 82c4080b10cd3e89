import pytest

from tests.factories.inventory import NodeFactory, ProductFactory, stocked


@pytest.fixture
def levels(db):
    """dc-east holding 10 TEE-1 and 4 MUG-2."""
    node = NodeFactory(code="dc-east")
    return {
        "TEE": stocked(node, ProductFactory(sku="TEE-1"), on_hand=10),
        "MUG": stocked(node, ProductFactory(sku="MUG-2"), on_hand=4),
    }
