"""The products CSV mapping carries the barcode (UPC/EAN/GTIN) into `Product.upc`, in canonical
form; a code with a wrong check digit or one another product has is a row error with a code."""

import pytest

from inventory.models import Product
from migration.mapping.schema import load_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor
from tests.factories.inventory import ProductFactory
from tests.migration.conftest import EXAMPLES, MAPPINGS, load

pytestmark = pytest.mark.django_db


def run(path):
    return run_import(
        mapping=load_mapping(MAPPINGS / "generic_products_csv.yaml"),
        input_path=path,
        dry_run=False,
        actor=Actor.system("test"),
    )


def test_the_example_catalogue_brings_its_barcodes():
    load("generic_products_csv", EXAMPLES / "products.csv")

    assert dict(Product.objects.values_list("sku", "upc")) == {
        "TENT-2P": "081234500016",
        "STOVE-1": "081234500023",  # given as EAN-13 0081234500023
        "LAMP-LED": "",
    }


def test_a_bad_or_taken_barcode_is_a_row_error(tmp_path):
    ProductFactory(sku="OLD", upc="081234500030")
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,title,weight_g,legacy_codes,upc\n"
        "A-1,Bad check digit,1,,081234500017\n"
        "A-2,Taken,1,,0081234500030\n"
        "A-3,Fine,1,,081234500047\n"
    )

    report = run(path)

    assert sorted((e["code"], e["value"]) for e in report.errors) == [
        ("bad_upc", "081234500017"),
        ("upc_taken", "0081234500030"),
    ]
    assert Product.objects.get(sku="A-3").upc == "081234500047"
    assert not Product.objects.filter(sku__in=["A-1", "A-2"]).exists()


def test_two_rows_of_one_file_with_the_same_barcode_refuse_the_second(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,title,weight_g,legacy_codes,upc\n"
        "B-1,First,1,,081234500047\n"
        "B-2,Same code as EAN-13,1,,0081234500047\n"
    )

    report = run(path)

    assert [(e["code"], e["field"]) for e in report.errors] == [("upc_taken", "upc")]
    assert dict(Product.objects.values_list("sku", "upc")) == {"B-1": "081234500047"}
