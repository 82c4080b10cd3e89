"""Partially fulfilled in-flight orders (issue 14, part 2): the corpus's Shopify export has two
(`Fulfillment Status: partial`), #1011 (picked up at the shop: 3 of 4 lines fulfilled) and
#1013 (shipped: 1 of 2). Their fulfilled lines are written as history (a finished fulfillment
order, consumed reservations, no stock moves); their open lines are reserved at the shop and
carry on natively. Which lines shipped comes from `Lineitem fulfillment status`; an order that
does not say it per whole line is refused `ambiguous_partial_fulfillment`."""

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import accept_fulfillment
from fulfillment.services.shipping import Package, ship_fulfillment
from inventory.models import InventoryMovement, Reservation, StockLevel
from inventory.selectors import find_ledger_mismatches
from migration.mapping.schema import load_mapping
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Order
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory
from tests.migration.conftest import MAPPINGS, corpus

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("test")


def run(path, *, dry_run=False):
    return run_import(
        mapping=load_mapping(MAPPINGS / "shopify_orders_csv.yaml"), input_path=path,
        dry_run=dry_run, actor=ACTOR,
    )  # fmt: skip


@pytest.fixture
def shop():
    ChannelFactory(code="shopify", name="Shopify")
    node = NodeFactory(code="shopify-shop", can_pickup=True)
    for sku in ("GIFT-CARD-10", "GIFT-CARD-100"):  # the partial orders' open lines
        stocked(node, ProductFactory(sku=sku), on_hand=5)
    return node


def test_partial_orders_import_shipped_lines_as_history_and_the_rest_in_flight(shop):
    report = run(corpus("shopify_orders_csv"))
    # 14 history; #1011, #1013, #1017 and #1018 (gift cards, stocked) in flight; #1019 needs
    # products the shop has no stock of
    assert (report.created, report.refused) == (18, 1), report.errors
    assert dict(report.error_counts) == {"legacy_node_short": 3}  # its lines other than a gift card
    movements = InventoryMovement.objects.count()

    pickup = Order.objects.get(external_id="#1011")
    assert pickup.status == "partially_shipped"
    assert [line.status for line in pickup.lines.order_by("line_number")] == [
        "released", "delivered", "delivered", "delivered",
    ]  # fmt: skip
    history, live = FulfillmentOrder.objects.filter(order=pickup).order_by("number")
    assert (history.number, history.status, history.node) == (
        f"{pickup.number}-1",
        "picked_up",
        shop,
    )
    assert sorted(history.lines.values_list("order_line__line_number", flat=True)) == [2, 3, 4]
    assert (live.number, live.status, live.node) == (f"{pickup.number}-2", "released", shop)
    assert list(live.lines.values_list("order_line__line_number", "quantity")) == [(1, 1)]
    consumed = Reservation.objects.filter(order_line__order=pickup, status="consumed")
    assert sorted(consumed.values_list("order_line__line_number", flat=True)) == [2, 3, 4]
    [active] = Reservation.objects.filter(order_line__order=pickup, status="active")
    assert (active.node, active.order_line.sku) == (shop, "GIFT-CARD-10")
    types = list(
        Event.objects.filter(stream=pickup.stream).order_by("seq").values_list("type", flat=True)
    )
    assert types[:3] == ["order.created", "fulfillment.imported", "order.status_changed"]

    shipped = Order.objects.get(external_id="#1013")
    assert shipped.status == "partially_shipped"
    # no stock moved for the legacy shipment: only the gift card is reserved at the shop
    wax = StockLevel.objects.get(
        node=shop, product__sku="SELLING-PLANS-SKI-WAX-SELLING-PLANS-SKI-WAX"
    )
    assert (wax.on_hand, wax.reserved) == (0, 0)
    gift = StockLevel.objects.get(node=shop, product__sku="GIFT-CARD-100")
    assert (gift.on_hand, gift.reserved) == (5, 2)  # #1013's and #1018's
    assert find_ledger_mismatches() == []

    # the rest ships through the normal flow
    rest = FulfillmentOrder.objects.get(order=shipped, status="released")
    accept_fulfillment(fulfillment_id=rest.pk, actor=ACTOR)
    ship_fulfillment(
        fulfillment_id=rest.pk, packages=[Package(carrier="ups", tracking_number="1Z1")],
        actor=ACTOR,
    )  # fmt: skip
    shipped.refresh_from_db()
    assert shipped.status == "shipped"
    gift.refresh_from_db()
    assert (gift.on_hand, gift.reserved) == (4, 1)
    assert find_ledger_mismatches() == []

    again = run(corpus("shopify_orders_csv"))
    assert (again.created, again.unchanged) == (0, 18)
    assert FulfillmentOrder.objects.filter(order__external_id__in=["#1011", "#1013"]).count() == 4
    assert InventoryMovement.objects.count() == movements + 1  # the native shipment only


def test_a_partial_order_that_does_not_say_which_units_shipped_is_refused(shop, tmp_path):
    text = corpus("shopify_orders_csv").read_text(encoding="utf-8-sig")
    header, *rows = text.splitlines()
    partial = [r for r in rows if r.startswith("#1013,")]
    assert len(partial) == 2
    variants = {
        # a line that shipped in part: how many of its units is unknown
        "line_partial": [partial[0], partial[1].replace(",fulfilled,", ",partial,", 1)],
        # the order says partial, but every line says fulfilled
        "all_fulfilled": [
            partial[0].replace(",false,false,pending,", ",false,false,fulfilled,"),
            partial[1],
        ],
    }
    for name, lines in variants.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("\n".join([header, *lines]) + "\n")
        report = run(path)
        assert report.refused == 1, name
        assert dict(report.error_counts) == {"ambiguous_partial_fulfillment": 1}, name
        assert report.errors[0]["field"] == "lines.status"
    assert Order.objects.count() == 0
