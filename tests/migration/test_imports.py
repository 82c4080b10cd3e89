"""Imports through the shipped mappings: dry run writes nothing; real runs are idempotent;
history is written closed without stock moving; in-flight orders are reserved at the legacy
node and carry on as native orders."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from fulfillment.models import FulfillmentOrder
from inventory.models import InventoryMovement, Node, Product, Reservation, StockLevel
from inventory.selectors import find_ledger_mismatches
from migration.mapping.schema import load_mapping
from migration.models import ImportedRecord, ImportJob
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Order
from tests.factories.inventory import NodeFactory
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS, corpus

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("test")


def run(name, path=None, *, dry_run=False, update_changed=False):
    return run_import(
        mapping=load_mapping(MAPPINGS / f"{name}.yaml"),
        input_path=path or corpus(name),
        dry_run=dry_run,
        actor=ACTOR,
        update_changed=update_changed,
    )


def test_nodes_from_kibo_dry_then_real_then_again(capsys):
    dry = run("kibo_locations_jsonl", dry_run=True)
    assert (dry.records, dry.created, dry.refused) == (26, 26, 0)
    assert Node.objects.count() == 0
    real = run("kibo_locations_jsonl")
    assert real.created == 26
    assert Node.objects.count() == 26
    kcdc = Node.objects.get(code="kcdc")
    assert (kcdc.kind, kcdc.can_ship, kcdc.can_pickup) == ("warehouse", True, False)
    assert Node.objects.get(code="atlanta").can_ship_from_store
    again = run("kibo_locations_jsonl")
    assert (again.created, again.unchanged, again.duplicates_in_db) == (0, 26, 26)


def test_node_without_geo_is_placed_by_its_zip_and_bad_rows_are_report_lines(tmp_path):
    source = tmp_path / "locations.jsonl"
    source.write_text(
        json.dumps(
            {
                "code": "NOGEO",
                "name": "No geo",
                "locationTypes": [{"code": "WHSE"}],
                "fulfillmentTypes": [{"code": "DS"}],
                "isDisabled": False,
                "address": {"postalOrZipCode": "43215", "countryCode": "US"},
            }
        )
        + "\n"
        + "{not json\n"
        + json.dumps(
            {
                "code": "ODD",
                "name": "Odd",
                "locationTypes": [{"code": "MOON"}],
                "fulfillmentTypes": [],
                "isDisabled": False,
                "address": {},
            }
        )
        + "\n"
    )
    report = run("kibo_locations_jsonl", source)
    assert report.created == 1
    node = Node.objects.get(code="nogeo")
    assert abs(node.latitude - Decimal("39.96")) < 1
    assert node.postal_code == "43215"
    assert report.error_counts["bad_json"] == 1
    assert report.error_counts["unmapped_value"] == 1
    assert {e["line"] for e in report.errors} == {2, 3}


def test_stock_from_kibo_is_opening_stock_in_the_ledger():
    run("kibo_locations_jsonl")
    report = run("kibo_inventory_jsonl")
    assert (report.created, report.refused) == (2003, 0)
    assert Product.objects.count() == 78
    assert sum(StockLevel.objects.values_list("on_hand", flat=True)) == 2003111
    assert InventoryMovement.objects.filter(reference_type="initial_stock").count() == 2003
    assert find_ledger_mismatches() == []
    again = run("kibo_inventory_jsonl")
    assert (again.created, again.unchanged) == (0, 2003)
    assert InventoryMovement.objects.count() == 2003


def test_stock_for_an_unknown_node_is_refused_with_a_code():
    report = run("shopify_inventory_csv", dry_run=True)
    assert report.refused == 67
    assert report.error_counts["unknown_node"] == 67


def shop():
    ChannelFactory(code="shopify", name="Shopify")
    return NodeFactory(code="shopify-shop", can_pickup=True)


def test_shopify_orders_history_and_in_flight():
    node = shop()
    stock = run("shopify_inventory_csv")
    assert stock.created == 67
    dry = run("shopify_orders_csv", dry_run=True)
    # 14 fulfilled (history), 2 partial and 3 unfulfilled (in flight): those need stock at the
    # shop location for their open lines, and the inventory export holds other products.
    assert (dry.records, dry.created, dry.refused) == (19, 14, 5)
    # one per open line: #1011 and #1013 (their gift card), #1017, #1018, 4 × #1019
    assert dict(dry.error_counts) == {"legacy_node_short": 8}
    assert Order.objects.count() == 0
    assert ImportedRecord.objects.filter(kind="orders").count() == 0
    for sku in (
        "GIFT-CARD-10",
        "GIFT-CARD-100",
        "SELLING-PLANS-SKI-WAX-SELLING-PLANS-SKI-WAX",
        "THE-COLLECTION-SNOWBOARD-HYDROGEN",
        "THE-COLLECTION-SNOWBOARD-OXYGEN",
    ):
        product = Product.objects.get_or_create(sku=sku, defaults={"name": sku})[0]
        StockLevel.objects.filter(node=node, product=product).delete()
        from inventory.services.ledger import InitialStock, set_initial_stock  # noqa: PLC0415

        set_initial_stock(node_id=node.pk, levels=[InitialStock(product.pk, 5)], actor=ACTOR)
    real = run("shopify_orders_csv")
    assert (real.created, real.refused) == (19, 0)
    assert real.money == {"EUR": Decimal("14089.04")}  # the Total column of the 19 orders
    history = Order.objects.filter(external_id="#1001").get()
    assert (history.status, history.payment_status, history.grand_total) == (
        "shipped",
        "paid",
        Decimal("1659.95"),
    )
    assert history.lines.count() == 4
    assert history.placed_at.isoformat().startswith("2025-05-11T13:55:16")
    imported = Event.objects.get(stream=history.stream, type="order.imported")
    assert imported.occurred_at == history.placed_at
    fo = FulfillmentOrder.objects.get(order=history)
    assert fo.status == "picked_up"
    assert fo.node == node
    assert Reservation.objects.filter(order_line__order=history, status="consumed").count() == 4
    in_flight = Order.objects.get(external_id="#1019")
    reservations = Reservation.objects.filter(order_line__order=in_flight)
    assert {(r.node_id, r.quantity) for r in reservations} == {(node.pk, 1)}
    assert FulfillmentOrder.objects.filter(order=in_flight, node=node).exists()  # orchestrated
    assert find_ledger_mismatches() == []
    movements = InventoryMovement.objects.count()
    again = run("shopify_orders_csv")
    assert (again.created, again.unchanged) == (0, 19)
    assert InventoryMovement.objects.count() == movements
    assert Order.objects.count() == 19


def test_shipstation_and_sterling_in_flight():
    ChannelFactory(code="web", name="Web")
    amz = NodeFactory(code="amz-us")
    NodeFactory(code="dc-east")
    for sku in ("FD88821", "DEEP_BWP_MCF_6"):
        product = Product.objects.create(sku=sku, name=sku)
        from inventory.services.ledger import InitialStock, set_initial_stock  # noqa: PLC0415

        set_initial_stock(node_id=amz.pk, levels=[InitialStock(product.pk, 10)], actor=ACTOR)
    ship = run("shipstation_orders_xml")
    assert ship.created == 1
    assert ship.error_counts["warning:totals_mismatch"] == 1
    order = Order.objects.get(external_id="ABC123")
    assert order.grand_total == Decimal("22.48")  # 2 × 13.99 − 10.00 + 4.50; the header said 123.45
    sterling = run("sterling_release_order_xml")
    assert sterling.created == 1
    order = Order.objects.get(external_id="Y100003111")
    [reservation] = Reservation.objects.filter(order_line__order=order)
    assert reservation.node == amz
    assert reservation.status == "active"
    assert StockLevel.objects.get(node=amz, product__sku="DEEP_BWP_MCF_6").reserved == 1


def test_returns_and_status_codes_are_reported_and_references_need_their_order():
    ret = run("sterling_return_order_list_xml")
    assert ret.refused == 1
    assert ret.error_counts["return_order"] == 1
    assert Order.objects.count() == 0
    codes = run("sterling_status_codes_xml")
    assert codes.filtered == 274 - 47
    assert codes.error_counts["unmapped_status"] > 0  # the extension codes the map leaves out
    ship = run("sterling_confirm_shipment_xml")  # applied: needs its order (test_sterling_apply)
    assert ship.error_counts["unknown_order"] == 1
    assert not ship.dry_run
    alloc = run("sterling_order_line_list_xml")  # applied: needs its order (test_sterling_apply)
    assert alloc.error_counts["unknown_order"] == 1
    assert not alloc.dry_run


def test_broken_variants_are_report_lines(tmp_path):
    shop()
    text = corpus("shopify_orders_csv").read_text(encoding="utf-8-sig")
    header, *rows = text.splitlines()
    bad_date = rows[0].replace("2025-05-11 09:55:16 -0400", "11/05/2025")
    unknown_status = rows[4].replace(",fulfilled,", ",lost_in_space,", 1)
    path = tmp_path / "orders.csv"
    path.write_text(
        "\n".join([header, bad_date, *rows[1:4], unknown_status, *rows[5:7], *rows[4:6]]) + "\n"
    )
    report = run("shopify_orders_csv", path, dry_run=True)
    assert report.error_counts["bad_date"] >= 1
    assert report.error_counts["unmapped_value"] == 1
    assert report.duplicates_in_file == 1
    assert report.unmapped["status"]["lost_in_space"] == 1
    missing = tmp_path / "missing.csv"
    missing.write_text(header.replace("Lineitem quantity,", "") + "\n")
    report = run("shopify_orders_csv", missing, dry_run=True)
    assert report.fatal
    assert report.error_counts["missing_column"] == 1


def test_command_dry_run_prints_and_stores_the_report(tmp_path, capsys):
    out = tmp_path / "report.json"
    call_command(
        "import_legacy",
        "--mapping",
        "kibo_locations_jsonl",
        "--input",
        str(corpus("kibo_locations_jsonl")),
        "--dry-run",
        "--report",
        str(out),
    )
    printed = capsys.readouterr().out
    assert "would create 26" in printed
    assert json.loads(out.read_text())["created"] == 26
    job = ImportJob.objects.get()
    assert job.dry_run
    assert job.status == "done"
    assert job.report["records"] == 26
    assert Node.objects.count() == 0
