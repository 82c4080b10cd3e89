"""Every shipped mapping validates, every corpus file of the legacy folder has one, and the
schema's errors name the path and the line."""

import pytest

from migration.mapping.extract import Extractor
from migration.mapping.readers import SourceRecord, read_records
from migration.mapping.schema import MappingError, load_mapping, parse_mapping
from migration.services.runs import csv_columns
from tests.migration.conftest import CORPUS, LEGACY, MAPPINGS, corpus


def test_every_legacy_corpus_file_has_a_shipped_mapping():
    files = {
        str(p.relative_to(LEGACY))
        for p in LEGACY.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    if not files:
        pytest.skip("no corpus")
    assert files == set(CORPUS.values())
    shipped = {p.stem for p in MAPPINGS.glob("*.yaml")}
    assert set(CORPUS) <= shipped


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_mappings_validate(path):
    mapping = load_mapping(path)
    assert mapping.name == path.stem


def records(name):
    mapping = load_mapping(MAPPINGS / f"{name}.yaml")
    extractor = Extractor(mapping)
    out = []
    for item in read_records(corpus(name), mapping.format, csv_columns(mapping)):
        assert isinstance(item, SourceRecord), item
        out.append(extractor.extract(item))
    return out, extractor


def test_schema_errors_name_path_and_line():
    text = """version: 1
name: broken
source: legacy
kind: orders
format: {type: xml}
fields:
  source_id: OrderNo
  placed_at: {from: Date, transforms: [{parse_date: {fmt: x}}]}
  colour: Colour
lines:
  path: Lines/Line
  fields:
    sku: {from: Sku, map: skus}
"""
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, file="broken.yaml")
    text_of = str(caught.value)
    problems = {(p.path, p.line) for p in caught.value.problems}
    assert ("format", 5) in problems  # xml needs record
    assert ("fields.placed_at", 8) in problems, text_of
    assert "broken.yaml" in text_of


def test_semantic_errors_name_path_and_line():
    text = """version: 1
name: broken
source: legacy
kind: orders
format: {type: csv, group_by: id}
fields:
  source_id: id
  colour: Colour
lines:
  fields:
    sku: {from: Sku, map: skus}
    quantity: qty
    unit_price: price
"""
    with pytest.raises(MappingError) as caught:
        parse_mapping(text)
    found = {(p.path, p.line, p.message) for p in caught.value.problems}
    assert ("fields.colour", 8, "orders have no field 'colour'") in found
    assert any(m == "no map named 'skus'" for _, _, m in found)
    assert any(m == "orders need the field 'placed_at'" and line == 6 for _, line, m in found)


def test_bad_yaml_has_a_line():
    with pytest.raises(MappingError) as caught:
        parse_mapping("version: 1\nname: [unclosed\n")
    assert caught.value.problems[0].line == 3 or caught.value.problems[0].line == 2


def test_sterling_release_order():
    [order], _ = records("sterling_release_order_xml")
    assert not order.errors
    f = order.fields
    assert (f["source_id"], f["status"], f["currency"], f["channel"]) == (
        "Y100003111",
        "open",
        "USD",
        "web",
    )
    assert f["placed_at"].isoformat() == "2026-03-15T15:49:15-04:00"  # from OrderHeaderKey
    assert (f["ship_postal_code"], f["ship_node"], f["customer_name"]) == (
        "02160",
        "amz-us",
        "Jane Doe",
    )
    [line] = order.lines
    assert (line["sku"], line["quantity"], str(line["unit_price"]), line["ship_node"]) == (
        "Deep_bwp_MCF_6",
        1,
        "100.00",
        "amz-us",
    )


def test_sterling_return_order_is_refused_with_a_code():
    [order], extractor = records("sterling_return_order_list_xml")
    codes = {(e.code, e.field) for e in order.errors}
    assert ("return_order", "document_type") in codes
    assert order.fields["source_id"] == "Y100000308"
    assert order.fields["currency"] == "THB"
    assert extractor.unmapped[("document_type", "0003")] == 1


def test_sterling_allocations_shipments_cancellations():
    [alloc], _ = records("sterling_order_line_list_xml")
    assert (alloc.fields["order_id"], alloc.fields["node"]) == ("Y100003115", "amz-us")
    assert alloc.lines[0]["quantity"] == 1
    assert alloc.lines[0]["status"] == "open"
    [ship], _ = records("sterling_confirm_shipment_xml")
    assert (ship.fields["tracking_number"], ship.fields["carrier"]) == ("123456789", "fedex")
    assert [(x["line_id"], x["quantity"]) for x in ship.lines] == [("OL0001", 1)]
    [container], _ = records("sterling_shipment_container_list_xml")
    assert (container.fields["order_id"], container.fields["tracking_number"]) == (
        "Y100003115",
        "123456789",
    )
    [cancel], _ = records("sterling_change_release_xml")
    assert cancel.lines == [
        {"_line": 15, "line_id": "OL0001", "action": "cancel", "quantity_change": -1}
    ]


def test_sterling_status_codes():
    codes, _ = records("sterling_status_codes_xml")
    kept = [c for c in codes if not c.skipped]
    assert len(codes) == 274
    assert len(kept) == 47  # ORDER_FULFILLMENT, as PROVENANCE.md counts
    assert {"1100", "3200", "3700", "9000"} <= {c.fields["code"] for c in kept}


def test_shopify_orders():
    orders, extractor = records("shopify_orders_csv")
    assert len(orders) == 19
    assert sum(o.rows for o in orders) == 40
    by_id = {o.source_id: o for o in orders}
    assert not any(o.errors for o in orders)
    statuses = [o.fields.get("status") for o in orders]
    assert statuses.count("shipped") == 14
    assert statuses.count("open") == 3
    assert statuses.count("partially_shipped") == 2  # #1011, #1013 (Shopify `partial`)
    # which lines of a partial order shipped: the line-level fulfillment status column
    assert [line["status"] for line in by_id["#1011"].lines] == ["open"] + ["shipped"] * 3
    assert [line["status"] for line in by_id["#1013"].lines] == ["open", "shipped"]
    first = by_id["#1001"]
    assert len(first.lines) == 4
    assert str(first.fields["grand_total"]) == "1659.95"
    assert (
        sum(line["quantity"] * line["unit_price"] for line in first.lines)
        == first.fields["grand_total"]
    )
    assert first.lines[0]["sku"] == "GIFT-CARD-10"  # no SKU in the export: from the name
    assert by_id["#1006"].lines[1]["sku"] == "sku-untracked-1"
    assert first.fields["delivery_method"] == "pickup"
    assert first.fields["pickup_node"] == "shopify-shop"
    assert by_id["#1005"].fields["delivery_method"] == "ship"
    assert by_id["#1005"].fields["ship_postal_code"] == "K2P 2L8"
    assert not extractor.unmapped


def test_shopify_inventory():
    rows, _ = records("shopify_inventory_csv")
    assert len(rows) == 67
    assert not any(r.errors for r in rows)
    assert rows[0].fields == {
        "node": "shopify-shop",
        "sku": "PUFF-LARGE-LATTE",
        "product_name": "Puff Large Latte",
        "on_hand": 103,
    }
    assert sum(r.fields["on_hand"] for r in rows) > 0


def test_kibo_files():
    stock, _ = records("kibo_inventory_jsonl")
    assert len(stock) == 2003
    assert not any(r.errors for r in stock)
    assert sum(r.fields["on_hand"] for r in stock) == 2003111
    assert len({r.fields["sku"] for r in stock}) == 78
    nodes, _ = records("kibo_locations_jsonl")
    assert len(nodes) == 26
    assert not any(r.errors for r in nodes)
    by_code = {n.fields["code"]: n.fields for n in nodes}
    assert by_code["alb"]["kind"] == "3pl"
    assert by_code["alb"]["capabilities"] == ["ship", "pickup"]
    assert by_code["kcdc"]["kind"] == "warehouse"
    assert by_code["kcdc"]["capabilities"] == ["ship"]
    assert by_code["atlanta"]["is_active"] is True


def test_shipstation_orders():
    [order], _ = records("shipstation_orders_xml")
    assert not order.errors
    f = order.fields
    assert (f["source_id"], f["status"], f["carrier"], f["payment_method"]) == (
        "ABC123",
        "open",
        "usps",
        "card",
    )
    assert f["placed_at"].isoformat() == "2011-12-08T21:56:00-06:00"
    assert [
        (x["sku"], x["quantity"], str(x["unit_price"]), x["is_adjustment"]) for x in order.lines
    ] == [("FD88821", 2, "13.99", False), (None, 1, "-10.00", True)]
