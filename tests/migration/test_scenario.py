"""A mixed legacy export (nodes, products with aliases, opening stock, history and in-flight
orders) into an empty database; the in-flight orders then ship through the normal flow; stock,
ledger and reservations agree; re-running every import changes nothing."""

from decimal import Decimal
from pathlib import Path

import pytest

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.feedback import accept_fulfillment
from fulfillment.services.shipping import Package, ship_fulfillment
from inventory.models import InventoryMovement, Node, Reservation, StockLevel
from inventory.selectors import find_ledger_mismatches
from migration.mapping.schema import load_mapping
from migration.models import SkuAlias
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Order
from orders.services.holds import release_hold
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = Path(__file__).resolve().parents[2] / "migration" / "examples"
ACTOR = Actor.system("test")
STEPS = [
    ("generic_nodes_csv", "nodes.csv"),
    ("generic_products_csv", "products.csv"),
    ("generic_stock_csv", "stock.csv"),
    ("generic_orders_csv", "orders.csv"),
]


def import_all():
    return {
        name: run_import(
            mapping=load_mapping(MAPPINGS / f"{name}.yaml"),
            input_path=EXAMPLES / file,
            dry_run=False,
            actor=ACTOR,
        )
        for name, file in STEPS
    }


def levels():
    return {
        (s.node.code, s.product.sku): (s.on_hand, s.reserved)
        for s in StockLevel.objects.select_related("node", "product")
    }


def test_mixed_export_into_an_empty_database():
    ChannelFactory(code="web", name="Web")
    reports = import_all()
    assert {n: (r.created, r.refused) for n, r in reports.items()} == {
        "generic_nodes_csv": (2, 0),
        "generic_products_csv": (3, 0),
        "generic_stock_csv": (4, 0),
        "generic_orders_csv": (6, 0),
    }
    assert reports["generic_orders_csv"].money == {"USD": Decimal("1000.82")}
    boston = Node.objects.get(code="store-bos")
    assert boston.can_pickup
    assert boston.can_ship_from_store
    assert boston.latitude > 42
    assert SkuAlias.objects.get(alias="T2P-OLD").product.sku == "TENT-2P"

    # History: closed, in its final state, through the alias, no stock moved.
    h1 = Order.objects.get(external_id="H-1001")
    assert (h1.status, h1.grand_total, h1.lines.get().sku) == (
        "shipped",
        Decimal("224.87"),
        "TENT-2P",
    )
    parcel = Shipment.objects.get(fulfillment__order=h1)
    assert (parcel.carrier, parcel.tracking_number) == ("ups", "1Z999AA10123456784")
    assert parcel.shipped_at.isoformat() == "2025-03-03T21:40:00+00:00"  # EST, before DST
    assert Order.objects.get(external_id="H-1003").status == "cancelled"
    assert Event.objects.filter(type="order.imported").count() == 3
    assert not Event.objects.filter(type="order.created", stream=h1.stream).exists()
    # In flight: captured, reserved where the legacy system allocated, fulfillment order there.
    f1 = Order.objects.get(external_id="F-2001")
    [fo] = FulfillmentOrder.objects.filter(order=f1)
    assert fo.node.code == "dc-east"
    assert fo.status == "released"
    assert levels()[("dc-east", "TENT-2P")] == (40, 2)
    assert levels()[("store-bos", "LAMP-LED")] == (12, 3)
    assert find_ledger_mismatches() == []
    # Held in the legacy system: in flight with a manual hold, its units reserved at the legacy
    # node, nothing routed or released until a person releases the hold.
    f3 = Order.objects.get(external_id="F-2003")
    hold = f3.holds.get()
    assert (hold.kind, hold.status, hold.reason) == (
        "manual",
        "active",
        "held in the legacy system",
    )
    assert levels()[("dc-east", "STOVE-1")] == (25, 1)
    assert not FulfillmentOrder.objects.filter(order=f3).exists()
    release_hold(order_id=f3.pk, hold_id=hold.pk, actor=ACTOR, note="verified after migrating")
    [fo3] = FulfillmentOrder.objects.filter(order=f3)
    assert (fo3.node.code, fo3.status) == ("dc-east", "released")

    # ... and it ships like a native order.
    accept_fulfillment(fulfillment_id=fo.pk, actor=ACTOR)
    ship_fulfillment(
        fulfillment_id=fo.pk,
        packages=[Package(carrier="ups", tracking_number="1ZNEW")],
        actor=ACTOR,
    )
    f1.refresh_from_db()
    assert f1.status == "shipped"
    assert levels()[("dc-east", "TENT-2P")] == (38, 0)
    active = sum(Reservation.objects.filter(status="active").values_list("quantity", flat=True))
    assert active == sum(reserved for _, reserved in levels().values()) == 4
    assert find_ledger_mismatches() == []

    # Re-running every import changes nothing.
    counts = (Order.objects.count(), InventoryMovement.objects.count(), Event.objects.count())
    again = import_all()
    assert all(r.created == 0 and r.refused == 0 for r in again.values())
    assert [r.unchanged for r in again.values()] == [2, 3, 4, 6]
    assert (Order.objects.count(), InventoryMovement.objects.count(), Event.objects.count()) == (
        counts[0],
        counts[1],
        counts[2] + 0,
    )
