import pytest

from orders.services.api_clients import create_api_client
from tests.conftest import bearer_client
from tests.factories.inventory import NodeFactory, ProductFactory, stocked


@pytest.fixture
def levels(db):
    """dc-east holding 10 TEE-1 and 4 MUG-2."""
    node = NodeFactory(code="dc-east")
    return {
        "TEE": stocked(node, ProductFactory(sku="TEE-1"), on_hand=10),
        "MUG": stocked(node, ProductFactory(sku="MUG-2"), on_hand=4),
    }


@pytest.fixture
def feed_api(levels):
    """An API client authenticated as dc-east's own key (its WMS): the only key its feeds take."""
    return bearer_client(create_api_client(node_code="dc-east", name="wms-east").key)
