"""Orders on hold in the legacy system come in held: in flight, reserved at the legacy node,
with the hold (kind and reason from the source, else manual); a hold on a closed order or of an
unknown kind is a report line."""

import pytest

from inventory.models import StockLevel
from migration.mapping.schema import parse_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor
from orders.models import Order
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
HEADER = (
    "order_id,order_date,status,store,currency,customer,email,ship_address,ship_city,ship_state,"
    "ship_zip,ship_country,sku,qty,unit_price_cents,discount_cents,tax_cents,shipping_cents,"
    "total_cents,tender,carrier,tracking,shipped_date,hold_kind,hold_why\n"
)
ADDRESS = "Flo Hart,flo@example.com,4 Cedar Ct,Columbus,OH,43215,US"


def mapping_with_hold_columns():
    text = (MAPPINGS / "generic_orders_csv.yaml").read_text()
    text = text.replace(
        "lines:\n",
        "  hold: {from: hold_kind, transforms: [trim, lower]}\n  hold_reason: hold_why\nlines:\n",
        1,
    )
    return parse_mapping(text, file="held.yaml")


def test_held_orders_come_in_held_and_bad_holds_are_report_lines(example_stock, tmp_path):
    ChannelFactory(code="web", name="Web")
    source = tmp_path / "orders.csv"
    source.write_text(
        HEADER
        + f"F-1,2025-04-02 11:00,ON_HOLD,DC-EAST,USD,{ADDRESS},STOVE-1,1,4950,0,0,0,4950,VISA,"
        ",,,,\n"
        + f"F-2,2025-04-02 11:00,CREATED,DC-EAST,USD,{ADDRESS},STOVE-1,2,4950,0,0,0,9900,VISA,,,,"
        "fraud,score 97\n"
        + f"F-3,2025-04-02 11:00,CREATED,DC-EAST,USD,{ADDRESS},STOVE-1,1,4950,0,0,0,4950,VISA,,,,"
        "vibes,\n"
        + f"H-1,2025-03-02 10:15,SHIPPED,DC-EAST,USD,{ADDRESS},STOVE-1,1,4950,0,0,0,4950,VISA,UPS,"
        "1Z1,2025-03-03 16:40,manual,\n"
    )
    report = run_import(
        mapping=mapping_with_hold_columns(), input_path=source, dry_run=False, actor=ACTOR
    )

    assert (report.created, report.refused) == (2, 2)
    assert dict(report.error_counts) == {"bad_hold": 2}
    details = {e["source_id"]: e["detail"] for e in report.errors}
    assert "not one of" in details["F-3"]
    assert details["H-1"] == "a shipped order cannot be held"
    held = {o.external_id: o.holds.get() for o in Order.objects.all()}
    assert (held["F-1"].kind, held["F-1"].reason) == ("manual", "held in the legacy system")
    assert (held["F-2"].kind, held["F-2"].reason) == ("fraud", "score 97")
    level = StockLevel.objects.get(node__code="dc-east", product__sku="STOVE-1")
    assert (level.on_hand, level.reserved) == (25, 3)  # reserved at the legacy node, held
