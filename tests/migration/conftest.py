from pathlib import Path

import pytest

from inventory.models import StockLevel
from migration.mapping.schema import load_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor

LEGACY = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "legacy"
MAPPINGS = Path(__file__).resolve().parents[2] / "migration" / "mappings"

CORPUS = {
    "sterling_release_order_xml": (
        "sterling/sterling_releaseOrder_order_xml__with_OrderStatuses_3200__mcf_accelerator.xml"
    ),
    "sterling_order_line_list_xml": (
        "sterling/sterling_getOrderLineList_output__mcf_accelerator.xml"
    ),
    "sterling_confirm_shipment_xml": (
        "sterling/sterling_confirmShipment_input__containers_trackingno__mcf_accelerator.xml"
    ),
    "sterling_shipment_container_list_xml": (
        "sterling/sterling_getShipmentContainerList_output__mcf_accelerator.xml"
    ),
    "sterling_change_release_xml": (
        "sterling/sterling_changeRelease_input__line_cancel__mcf_accelerator.xml"
    ),
    "sterling_return_order_list_xml": (
        "sterling/sterling_getOrderList_output__return_order_0003__makro_mock.blade.php"
    ),
    "sterling_status_codes_xml": (
        "sterling/sterling_cdt__YFS_STATUS__status_codes_all_pipelines.xml"
    ),
    "shopify_orders_csv": ("shopify/shopify_admin_orders_export__dev_store.csv"),
    "shopify_inventory_csv": ("shopify/shopify_admin_inventory_export_1__per_location.csv"),
    "kibo_inventory_jsonl": ("kibo/kibo_inventory_export__sandbox_data.jsonl"),
    "kibo_locations_jsonl": ("kibo/kibo_locations_export__sandbox_data.jsonl"),
    "shipstation_orders_xml": (
        "shipstation/shipstation_custom_store_orders_export__vendor_sample.xml"
    ),
}


def corpus(name: str) -> Path:
    path = LEGACY / CORPUS[name]
    if not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    return path


EXAMPLES = Path(__file__).resolve().parents[2] / "migration" / "examples"


def load(name: str, path: Path) -> None:
    report = run_import(
        mapping=load_mapping(MAPPINGS / f"{name}.yaml"), input_path=path, dry_run=False,
        actor=Actor.system("test"),
    )  # fmt: skip
    assert report.error_total == 0, report.errors


@pytest.fixture
def example_stock():
    """The documented CSV example's nodes, products and opening stock (migration/examples)."""
    load("generic_nodes_csv", EXAMPLES / "nodes.csv")
    load("generic_products_csv", EXAMPLES / "products.csv")
    load("generic_stock_csv", EXAMPLES / "stock.csv")
    return {(s.node.code, s.product.sku): s.on_hand for s in StockLevel.objects.select_related(
        "node", "product")}  # fmt: skip
