from decimal import Decimal
from types import SimpleNamespace

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory
from tests.factories.orders import captured_order


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


# -- X12 file connector (tests/fulfillment/x12_support.py has the warehouse side) ----------


@pytest.fixture
def x12_dirs(settings, tmp_path):
    settings.OMS_X12_OUTBOX_DIR = tmp_path / "outbox"
    settings.OMS_X12_INBOX_DIR = tmp_path / "inbox"
    settings.OMS_X12_INBOX_DIR.mkdir()
    return SimpleNamespace(outbox=settings.OMS_X12_OUTBOX_DIR, inbox=settings.OMS_X12_INBOX_DIR)


@pytest.fixture
def x12_node(db):
    return NodeFactory(
        code="dc-3pl",
        name="3PL Columbus",
        connector="x12_file",
        connector_settings={"sender_id": "OMS", "receiver_id": "DC-3PL", "version": "004010"},
        priority=1,
    )


@pytest.fixture
def backup_node(db):
    return NodeFactory(code="dc-backup", name="DC Backup", priority=50)


@pytest.fixture
def release(x12_dirs, django_capture_on_commit_callbacks):
    """Capture an order and orchestrate it the way production does (eager Celery: the release
    task runs inline on commit); returns its one fulfillment order."""

    def _release(**order_kwargs):
        order = captured_order(**order_kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            orchestrate_order(order_id=order.pk)
        return FulfillmentOrder.objects.select_related("node", "order").get(order=order)

    return _release
