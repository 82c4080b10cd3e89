"""Batched writes: generated history in the Sterling Order XML shape goes in as batches (more
orders than one batch); a batch in which one order is refused at write time is written again
order by order, the others in and the refused one reported."""

import pytest

from fulfillment.models import FulfillmentOrder
from inventory.models import InventoryMovement, Node, Product, Reservation, StockLevel
from inventory.selectors import find_ledger_mismatches
from inventory.services.ledger import InitialStock, set_initial_stock
from migration.generator import skus, write_export
from migration.mapping.schema import load_mapping
from migration.models import ImportedRecord
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Order, OrderLine
from tests.factories.inventory import NodeFactory
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("test")


def run(name, path):
    return run_import(
        mapping=load_mapping(MAPPINGS / f"{name}.yaml"), input_path=path, dry_run=False, actor=ACTOR
    )


def test_generated_sterling_history_in_batches(tmp_path):
    ChannelFactory(code="web", name="Web")
    NodeFactory(code="shop")
    Product.objects.bulk_create([Product(sku=sku, name=sku) for sku in skus(20)])
    path = tmp_path / "orders.xml"
    write_export(path, "sterling_xml", 250, sku_count=20)

    report = run("sterling_release_order_xml", path)

    assert (report.records, report.created, report.refused) == (250, 250, 0)
    assert Order.objects.filter(status="shipped").count() == 250
    assert FulfillmentOrder.objects.filter(status="shipped").count() == 250
    assert Event.objects.filter(type="order.imported", seq=1).count() == 250
    assert Event.objects.filter(type="fulfillment.imported", seq=2).count() == 250
    first = Order.objects.get(external_id="G00000001")
    imported = Event.objects.get(stream=first.stream, type="order.imported")
    assert imported.occurred_at == first.placed_at
    consumed = Reservation.objects.filter(status="consumed")
    assert consumed.count() == OrderLine.objects.count() > 250
    assert consumed.filter(reference_id=first.number).count() == first.lines.count()
    assert not InventoryMovement.objects.exists()  # history moved no stock
    assert find_ledger_mismatches() == []
    again = run("sterling_release_order_xml", path)
    assert (again.created, again.unchanged) == (0, 250)


def test_a_batch_with_an_order_refused_at_write_time_is_written_one_by_one(tmp_path):
    ChannelFactory(code="web", name="Web")
    node = NodeFactory(code="dc-east")
    product = Product.objects.create(sku="LAMP", name="Lamp")
    set_initial_stock(node_id=node.pk, levels=[InitialStock(product.pk, 1)], actor=ACTOR)
    header = (
        "order_id,order_date,status,store,currency,customer,email,ship_address,ship_city,"
        "ship_state,ship_zip,ship_country,sku,qty,unit_price_cents,discount_cents,tax_cents,"
        "shipping_cents,total_cents,tender,carrier,tracking,shipped_date"
    )
    row = (
        "{id},2025-04-01 08:00,RELEASED,DC-EAST,USD,Dee Fox,d@example.com,7 Birch Ln,Columbus,"
        "OH,43215,US,LAMP,1,2500,0,0,0,2500,VISA,,,"
    )
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([header, row.format(id="F-1"), row.format(id="F-2")]) + "\n")

    report = run("generic_orders_csv", path)

    # Both passed the check (one unit available to each); writing both in one batch failed on
    # the second reservation, so the batch was written again order by order.
    assert (report.created, report.refused) == (1, 1)
    assert report.error_counts == {"legacy_node_short": 1}
    assert Order.objects.count() == 1
    assert ImportedRecord.objects.count() == 1
    assert StockLevel.objects.get(node=node, product=product).reserved == 1
    assert Node.objects.count() == 1
    assert find_ledger_mismatches() == []


def test_a_refused_big_batch_is_retried_in_parts_and_only_the_refused_order_is_refused(tmp_path):
    """150 open orders of one unit each, one batch (up to 1,000); the node has 149 units, so
    each passes its check and the batch fails on the last reservation: the batch is written
    again in parts of 100 (the first goes in whole), and the failing part order by order."""
    ChannelFactory(code="web", name="Web")
    node = NodeFactory(code="dc-east")
    product = Product.objects.create(sku="LAMP", name="Lamp")
    set_initial_stock(node_id=node.pk, levels=[InitialStock(product.pk, 149)], actor=ACTOR)
    header = (
        "order_id,order_date,status,store,currency,customer,email,ship_address,ship_city,"
        "ship_state,ship_zip,ship_country,sku,qty,unit_price_cents,discount_cents,tax_cents,"
        "shipping_cents,total_cents,tender,carrier,tracking,shipped_date"
    )
    row = (
        "{id},2025-04-01 08:00,RELEASED,DC-EAST,USD,Dee Fox,d@example.com,7 Birch Ln,Columbus,"
        "OH,43215,US,LAMP,1,2500,0,0,0,2500,VISA,,,"
    )
    path = tmp_path / "orders.csv"
    rows = [row.format(id=f"F-{n:03d}") for n in range(1, 151)]
    path.write_text("\n".join([header, *rows]) + "\n")

    report = run("generic_orders_csv", path)

    assert (report.created, report.refused) == (149, 1)
    assert report.error_counts == {"legacy_node_short": 1}
    assert report.errors[0]["source_id"] == "F-150"
    assert Order.objects.count() == ImportedRecord.objects.count() == 149
    assert StockLevel.objects.get(node=node, product=product).reserved == 149
    assert find_ledger_mismatches() == []
