"""Sterling shipments and cancellations applied to the orders imported from Sterling (issue 14,
part 2): the corpus's confirmShipment ships the in-flight order it names through the normal flow
(tracking, reservations consumed, order shipped); its changeRelease cancels the unit it names
(here at the node: a cancel request goes to the node, as for a person's cancel). The corpus's
line list, confirmShipment and changeRelease all name order Y100003115 (line OL0001, item SKU123
at AMZ-US); the release order for it is the corpus's releaseOrder with those ids."""

import pytest
from django.db import transaction

from fulfillment.models import FulfillmentOrder, NodeRequest, Shipment
from fulfillment.services.feedback import accept_fulfillment, start_picking
from fulfillment.services.shipping import Package, ship_fulfillment
from fulfillment.services.split import SplitRefused, split_fulfillment
from inventory.models import InventoryMovement, Reservation, StockLevel
from inventory.selectors import find_ledger_mismatches
from migration.mapping.schema import load_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Order
from orders.services.holds import release_hold
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

    def make(quantity: int = 1, status: str = "3200", node: str = "AMZ-US") -> Order:
        ChannelFactory(code="web", name="Web")
        product = ProductFactory(sku="SKU123")
        stocked(NodeFactory(code="amz-us"), product, on_hand=10)
        stocked(NodeFactory(code="dc-east"), product, on_hand=10)
        text = corpus("sterling_release_order_xml").read_text()
        for old, new in (
            ('OrderNo="Y100003111"', 'OrderNo="Y100003115"'),
            ("202603151549159158697", "OL0001"),
            ("Deep_bwp_MCF_6", "SKU123"),
            ('OrderedQty="1.00"', f'OrderedQty="{quantity}.00"'),
            ('LineTotal="100.00"', f'LineTotal="{quantity * 100}.00"'),
            ('Status="3200"', f'Status="{status}"'),
            ('ShipNode="AMZ-US"', f'ShipNode="{node}"'),
        ):
            text = text.replace(old, new)
        path = tmp_path / "release.xml"
        path.write_text(text)
        report = run("sterling_release_order_xml", path)
        assert (report.created, report.error_total) == (1, 0), report.errors
        order = Order.objects.get(external_id="Y100003115")
        if status == "3200":
            fo = FulfillmentOrder.objects.get(order=order)
            assert (fo.node.code, fo.status) == (node.lower(), "released")
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


def test_a_shipment_of_part_of_the_units_splits_the_fulfillment_order_and_ships_that_part(
    order_y100003115,
):
    order = order_y100003115(2)
    [fo] = FulfillmentOrder.objects.filter(order=order)
    dry = run(
        "sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"), dry_run=True
    )
    assert (dry.created, dry.error_total) == (1, 0)
    assert FulfillmentOrder.objects.filter(order=order).count() == 1

    report = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    fo.refresh_from_db()
    part = FulfillmentOrder.objects.exclude(pk=fo.pk).get(order=order)
    assert (part.number, part.status, part.node.code) == (f"{order.number}-2", "shipped", "amz-us")
    assert list(part.lines.values_list("quantity", "shipped_quantity")) == [(1, 1)]
    # the rest stays at the node, released, with its own reservation: nothing written off
    assert fo.status == "released"
    assert list(fo.lines.values_list("quantity", "short_quantity")) == [(1, 0)]
    assert fo.lines.get().reservation.status == "active"
    parcel = Shipment.objects.get(fulfillment=part)
    assert (parcel.carrier, parcel.tracking_number) == ("fedex", "123456789")
    level = StockLevel.objects.get(node__code="amz-us", product__sku="SKU123")
    assert (level.on_hand, level.reserved) == (9, 1)
    assert find_ledger_mismatches() == []
    types = Event.objects.filter(stream=order.stream).values_list("type", flat=True)
    assert "fulfillment.split" in types

    again = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))
    assert (again.created, again.unchanged) == (0, 1)
    assert FulfillmentOrder.objects.filter(order=order).count() == 2

    # the rest then ships through the normal flow
    accept_fulfillment(fulfillment_id=fo.pk, actor=ACTOR)
    ship_fulfillment(
        fulfillment_id=fo.pk, packages=[Package(carrier="ups", tracking_number="1Z2")],
        actor=ACTOR,
    )  # fmt: skip
    order.refresh_from_db()
    assert order.status == "shipped"
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (8, 0)
    assert find_ledger_mismatches() == []


def test_a_shipment_of_more_units_than_the_fulfillment_order_is_a_report_line(
    order_y100003115, tmp_path
):
    order_y100003115(1)
    text = (
        corpus("sterling_confirm_shipment_xml")
        .read_text()
        .replace('Quantity="1.0"', 'Quantity="2.0"')
    )
    path = tmp_path / "ship.xml"
    path.write_text(text)
    report = run("sterling_confirm_shipment_xml", path)

    assert dict(report.error_counts) == {"over_shipment": 1}
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


def test_a_part_of_a_fulfillment_order_already_being_picked_is_not_split(order_y100003115):
    order = order_y100003115(2)
    fo = FulfillmentOrder.objects.get(order=order)
    accept_fulfillment(fulfillment_id=fo.pk, actor=ACTOR)
    start_picking(fulfillment_id=fo.pk, actor=ACTOR)
    report = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))

    assert dict(report.error_counts) == {"not_splittable": 1}
    assert "picking" in report.errors[0]["detail"]
    assert FulfillmentOrder.objects.filter(order=order).count() == 1
    with pytest.raises(SplitRefused) as refused, transaction.atomic():
        split_fulfillment(
            fulfillment_id=fo.pk, quantities={fo.lines.get().pk: 1}, actor=ACTOR, reason="t"
        )
    assert refused.value.code == "not_splittable"


def test_a_shipment_for_a_history_order_adds_its_parcel_once(order_y100003115):
    order = order_y100003115(2, status="3700")  # imported as history: shipped, no tracking
    assert order.status == "shipped"
    [fo] = FulfillmentOrder.objects.filter(order=order)
    assert not Shipment.objects.exists()
    movements = InventoryMovement.objects.count()
    level = StockLevel.objects.get(node__code="amz-us", product__sku="SKU123")

    report = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    parcel = Shipment.objects.get()
    assert (parcel.fulfillment, parcel.carrier, parcel.tracking_number) == (
        fo,
        "fedex",
        "123456789",
    )
    assert list(parcel.lines.values_list("quantity", flat=True)) == [1]  # 1 of the 2 units
    order.refresh_from_db()
    assert order.status == "shipped"
    assert InventoryMovement.objects.count() == movements  # history: no stock moves
    assert StockLevel.objects.get(pk=level.pk).on_hand == level.on_hand
    imported = Event.objects.filter(stream=order.stream, type="fulfillment.imported")
    assert imported.count() == 2  # the history shipment, then its parcel
    assert imported.order_by("seq").last().payload["tracking_number"] == "123456789"

    again = run("sterling_confirm_shipment_xml", corpus("sterling_confirm_shipment_xml"))
    assert (again.created, again.unchanged) == (0, 1)
    # the container list names the same parcel: recognised, nothing added
    containers = run(
        "sterling_shipment_container_list_xml", corpus("sterling_shipment_container_list_xml")
    )
    assert containers.error_total == 0, containers.errors
    assert Shipment.objects.count() == 1


def test_a_cancellation_for_a_history_order_is_recorded_as_history(order_y100003115):
    order = order_y100003115(2, status="9000")  # imported as history: cancelled
    line = order.lines.get()
    report = run("sterling_change_release_xml", corpus("sterling_change_release_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    line.refresh_from_db()
    assert (line.status, line.cancelled_quantity) == ("cancelled", 1)
    event = Event.objects.get(stream=order.stream, type="order.cancellation_imported")
    assert (event.payload["quantity"], event.payload["cancelled_quantity"]) == (1, 1)
    assert not NodeRequest.objects.exists()
    again = run("sterling_change_release_xml", corpus("sterling_change_release_xml"))
    assert (again.created, again.unchanged) == (0, 1)
    line.refresh_from_db()
    assert line.cancelled_quantity == 1


def test_a_cancellation_of_shipped_history_units_is_a_report_line(order_y100003115):
    order = order_y100003115(1, status="3700")
    report = run("sterling_change_release_xml", corpus("sterling_change_release_xml"))

    assert dict(report.error_counts) == {"not_cancellable": 1}
    assert "0 of its 1 units are neither shipped nor cancelled" in report.errors[0]["detail"]
    assert order.lines.get().cancelled_quantity == 0


def levels():
    return {
        s.node.code: (s.on_hand, s.reserved)
        for s in StockLevel.objects.filter(product__sku="SKU123").select_related("node")
    }


def test_an_allocation_moves_a_held_orders_reservation_to_the_allocated_node(order_y100003115):
    order = order_y100003115(1, status="8000", node="DC-EAST")  # held: reserved, no fulfillment
    assert order.holds.filter(status="active").exists()
    assert levels() == {"amz-us": (10, 0), "dc-east": (10, 1)}

    dry = run("sterling_order_line_list_xml", corpus("sterling_order_line_list_xml"), dry_run=True)
    assert (dry.created, dry.error_total) == (1, 0), dry.errors
    assert dry.error_counts["warning:would_reallocate"] == 1
    assert levels() == {"amz-us": (10, 0), "dc-east": (10, 1)}

    report = run("sterling_order_line_list_xml", corpus("sterling_order_line_list_xml"))

    assert (report.created, report.error_total) == (1, 0), report.errors
    assert levels() == {"amz-us": (10, 1), "dc-east": (10, 0)}
    [active] = Reservation.objects.filter(order_line__order=order, status="active")
    assert active.node.code == "amz-us"
    assert find_ledger_mismatches() == []
    event = Event.objects.get(stream=order.stream, type="order.line_reallocated")
    assert event.payload["from"] == [{"node": "dc-east", "quantity": 1}]
    assert not FulfillmentOrder.objects.filter(order=order).exists()  # still on hold

    again = run("sterling_order_line_list_xml", corpus("sterling_order_line_list_xml"))
    assert (again.created, again.unchanged) == (0, 1)
    assert levels() == {"amz-us": (10, 1), "dc-east": (10, 0)}

    hold = order.holds.get(status="active")
    release_hold(order_id=order.pk, hold_id=hold.pk, actor=ACTOR)
    fo = FulfillmentOrder.objects.get(order=order)
    assert (fo.node.code, fo.status) == ("amz-us", "released")


def test_an_allocation_matching_the_reservation_changes_nothing(order_y100003115):
    order = order_y100003115(1)
    report = run("sterling_order_line_list_xml", corpus("sterling_order_line_list_xml"))
    assert (report.created, report.error_total) == (1, 0), report.errors
    assert levels() == {"amz-us": (10, 1), "dc-east": (10, 0)}
    assert not Event.objects.filter(stream=order.stream, type="order.line_reallocated").exists()


def test_an_allocation_of_units_already_at_another_node_is_a_report_line(order_y100003115):
    order_y100003115(1, node="DC-EAST")  # released to dc-east already
    report = run("sterling_order_line_list_xml", corpus("sterling_order_line_list_xml"))
    assert dict(report.error_counts) == {"allocated_at_node": 1}
    assert "already at dc-east" in report.errors[0]["detail"]
    assert levels() == {"amz-us": (10, 0), "dc-east": (10, 1)}


def test_an_allocation_for_a_history_order_is_a_report_line(order_y100003115):
    order_y100003115(1, status="3700")
    report = run("sterling_order_line_list_xml", corpus("sterling_order_line_list_xml"))
    assert dict(report.error_counts) == {"order_closed": 1}


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
