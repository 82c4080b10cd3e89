"""Sterling shipments and cancellations applied to the orders imported from Sterling (issue 14,
part 2): the corpus's confirmShipment ships the in-flight order it names through the normal flow
(tracking, reservations consumed, order shipped); its changeRelease cancels the unit it names
(here at the node: a cancel request goes to the node, as for a person's cancel). The corpus's
line list, confirmShipment and changeRelease all name order Y100003115 (line OL0001, item SKU123
at AMZ-US); the release order for it is the corpus's releaseOrder with those ids."""

import pytest

from fulfillment.models import FulfillmentOrder, NodeRequest, Shipment
from inventory.models import StockLevel
from inventory.selectors import find_ledger_mismatches
from migration.mapping.schema import load_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor
from orders.models import Order
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS, corpus

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("test")


def run(name, path, *, dry_run=False):
    return run_import(
        mapping=load_mapping(MAPPINGS / f"{name}.yaml"), input_path=path, dry_run=dry_run,
        actor=ACTOR,
    )  # fmt: skip


@pytest.fixture
def order_y100003115(tmp_path):
    """Imports Y100003115 in flight with `quantity` units, reserved and released at amz-us."""

    def make(quantity: int = 1) -> Order:
        ChannelFactory(code="web", name="Web")
        stocked(NodeFactory(code="amz-us"), ProductFactory(sku="SKU123"), on_hand=10)
        text = corpus("sterling_release_order_xml").read_text()
        for old, new in (
            ('OrderNo="Y100003111"', 'OrderNo="Y100003115"'),
            ("202603151549159158697", "OL0001"),
            ("Deep_bwp_MCF_6", "SKU123"),
            ('OrderedQty="1.00"', f'OrderedQty="{quantity}.00"'),
            ('LineTotal="100.00"', f'LineTotal="{quantity * 100}.00"'),
        ):
            text = text.replace(old, new)
        path = tmp_path / "release.xml"
        path.write_text(text)
        report = run("sterling_release_order_xml", path)
        assert (report.created, report.error_total) == (1, 0), report.errors
        order = Order.objects.get(external_id="Y100003115")
        fo = FulfillmentOrder.objects.get(order=order)
        assert (fo.node.code, fo.status) == ("amz-us", "released")
        return order

    return make


def test_confirm_shipment_ships_the_in_flight_order_once(order_y100003115):
    order = order_y100003115(1)
    dry = run(
        "sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"), dry_run=True
    )
    assert (dry.created, dry.error_total) == (1, 0)
    assert not Shipment.objects.exists()

    report = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    order.refresh_from_db()
    assert order.status == "shipped"
    parcel = Shipment.objects.get(fulfillment__order=order)
    assert (parcel.carrier, parcel.tracking_number) == ("fedex", "123456789")
    level = StockLevel.objects.get(node__code="amz-us", product__sku="SKU123")
    assert (level.on_hand, level.reserved) == (9, 0)
    assert find_ledger_mismatches() == []

    again = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))
    assert (again.created, again.unchanged) == (0, 1)
    assert Shipment.objects.count() == 1


def test_a_shipment_of_part_of_the_units_is_a_report_line(order_y100003115):
    order_y100003115(2)
    report = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))

    assert dict(report.error_counts) == {"partial_shipment": 1}
    assert "has 2 of line OL0001 to ship, the shipment carries 1" in report.errors[0]["detail"]
    assert not Shipment.objects.exists()


def test_change_release_cancels_the_unit_through_the_normal_cancel(order_y100003115):
    order = order_y100003115(2)
    report = run("sterling_change_release_xml", corpus("sterling_change_release_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    # released to the node: the unit is asked back from it, as a person's cancel would
    request = NodeRequest.objects.get(fulfillment__order=order)
    assert request.kind == "cancel"
    assert [line["quantity"] for line in request.lines] == [1]
    again = run("sterling_change_release_xml", corpus("sterling_change_release_xml"))
    assert (again.created, again.unchanged) == (0, 1)
    assert NodeRequest.objects.count() == 1


def test_references_to_orders_not_imported_are_report_lines():
    for name, code in (
        ("sterling_confirm_shipment_xml", "unknown_order"),
        ("sterling_change_release_xml", "unknown_line"),
    ):
        report = run(name, corpus(name))
        assert dict(report.error_counts) == {code: 1}


def test_change_release_on_a_mirrored_order_is_the_legacy_cancel(tmp_path):
    """While the channel is in shadow, the import mirrors the order (the legacy system has it):
    its changeRelease cancels the unit at once through the legacy cancel, asking no node."""
    from migration.selectors import order_diffs
    from oms.events.models import Event
    from tests.factories.users import superuser
    from tests.migration.cutover_support import set_mode

    ChannelFactory(code="web", name="Web")
    stocked(NodeFactory(code="amz-us"), ProductFactory(sku="SKU123"), on_hand=10)
    set_mode("web", "shadow", author=superuser("alice"), approver=superuser("bob"))
    text = corpus("sterling_release_order_xml").read_text()
    for old, new in (
        ('OrderNo="Y100003111"', 'OrderNo="Y100003115"'),
        ("202603151549159158697", "OL0001"),
        ("Deep_bwp_MCF_6", "SKU123"),
        ('OrderedQty="1.00"', 'OrderedQty="2.00"'),
        ('LineTotal="100.00"', 'LineTotal="200.00"'),
    ):
        text = text.replace(old, new)
    path = tmp_path / "release.xml"
    path.write_text(text)
    assert run("sterling_release_order_xml", path).error_total == 0
    order = Order.objects.get(external_id="Y100003115")
    assert order.is_legacy_mirror
    assert not FulfillmentOrder.objects.filter(order=order).exists()

    report = run("sterling_change_release_xml", corpus("sterling_change_release_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    assert not NodeRequest.objects.exists()
    line = order.lines.get()
    assert (line.cancelled_quantity, line.status) == (1, "open")
    last = Event.objects.filter(stream=order.stream).order_by("-id").first()
    assert (last.type, last.payload["source"], last.payload["scope"]) == (
        "order.legacy_cancelled",
        "sterling_change_release_xml",
        "lines",
    )
    assert order.number not in {d.order for d in order_diffs()}
