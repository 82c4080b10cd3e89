"""route_order() against PostgreSQL: reservations, decisions, events, idempotency, races."""

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment import services as _services  # noqa: F401  (package import for patch paths)
from fulfillment.models import RoutingDecision
from fulfillment.services.orchestration import Outcome, orchestrate_order
from fulfillment.services.routing import forget_cached_load, route_order
from inventory.models import InventoryMovement, Reservation, StockLevel
from inventory.reservations import ReservationRequest, reserve
from inventory.services.feeds import apply_adjustment
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import LineStatus, OrderStatus
from orders.services.holds import place_hold
from tests.factories.inventory import stocked
from tests.factories.orders import ADDRESS, captured_order

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
NYC_ADDRESS = ADDRESS.__class__(
    name="Ada", line1="350 5th Ave", city="New York", region="NY", postal_code="10118", country="US"
)


def event_types(order):
    return list(Event.objects.filter(stream=order.stream).values_list("type", flat=True))


def reserved_at(node, product):
    return StockLevel.objects.get(node=node, product=product).reserved


def test_single_item_order_is_reserved_at_the_distribution_center(network, products):
    # given
    stocked(network["east"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], quantity=2, shipping_address=NYC_ADDRESS)

    # when
    decision = route_order(order_id=order.pk, actor=SYSTEM)

    # then
    order.refresh_from_db()
    assert decision.outcome == "routed"
    assert order.status == OrderStatus.ALLOCATED
    assert list(order.lines.values_list("status", flat=True)) == [LineStatus.ALLOCATED]
    assert reserved_at(network["east"], products["TEE"]) == 2
    assert list(Reservation.objects.values_list("node__code", "quantity", "status")) == [
        ("dc-east", 2, "active")
    ]
    assert (
        InventoryMovement.objects.filter(reason="reservation").aggregate(
            total=Sum("delta_reserved")
        )["total"]
        == 2
    )
    assert event_types(order) == ["order.created", "order.routed", "order.status_changed"]
    routed = Event.objects.get(stream=order.stream, type="order.routed")
    assert routed.payload["allocations"] == [
        {"line_number": 1, "sku": "TEE", "node": "dc-east", "quantity": 2}
    ]
    assert routed.payload["decision_id"] == decision.pk
    assert decision.explanation
    assert decision.rule_set_label == "built-in defaults"
    assert {c["code"] for c in decision.plan["attempts"][0]["candidates"]} == {
        "dc-east",
        "dc-west",
        "store-nyc",
    }


def test_the_decision_stores_a_compact_explanation_of_a_large_network(network, products):
    # given: 25 more stores, none with stock; east ships the order
    from tests.factories.inventory import StoreFactory

    for i in range(25):
        StoreFactory(code=f"store-{i:02d}")
    stocked(network["east"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], quantity=2, shipping_address=NYC_ADDRESS)

    # when
    decision = route_order(order_id=order.pk, actor=SYSTEM)

    # then: the chosen node, the 10 best-scored excluded nodes with their reasons, and counts
    [attempt] = decision.plan["attempts"]
    assert [a["node_code"] for a in attempt["assignments"]] == ["dc-east"]
    stored = {c["code"]: c for c in attempt["candidates"]}
    assert stored["dc-east"]["eligible"] is True
    assert len(stored) == 11
    excluded = [c for c in stored.values() if not c["eligible"]]
    assert [e["filter"] for c in excluded for e in c["excluded"]] == ["no_stock"] * 10
    assert stored["store-nyc"]["excluded"][0]["reason"] == (
        "Store store-nyc excluded: no usable stock of any ordered item"
    )
    assert attempt["candidates_total"] == 28
    assert attempt["candidates_eligible"] == 1
    assert attempt["exclusion_counts"] == {"no_stock": 27}
    assert any("Not eligible: 27 of 28 nodes (no_stock 27)" in s for s in decision.explanation)


def test_routing_twice_reserves_once(network, products):
    stocked(network["east"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], quantity=2, shipping_address=NYC_ADDRESS)
    route_order(order_id=order.pk, actor=SYSTEM)

    again = route_order(order_id=order.pk, actor=SYSTEM)

    assert again is None
    assert Reservation.objects.count() == 1
    assert reserved_at(network["east"], products["TEE"]) == 2
    assert RoutingDecision.objects.count() == 1
    assert event_types(order) == ["order.created", "order.routed", "order.status_changed"]


def test_nearest_node_wins_when_both_have_stock(network, products):
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["west"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], shipping_address=NYC_ADDRESS)

    route_order(order_id=order.pk, actor=SYSTEM)

    assert list(Reservation.objects.values_list("node__code", flat=True)) == ["dc-east"]


def test_multi_line_order_no_single_node_can_fill_is_split_in_two(network, products):
    # given: east has TEE and MUG, west has CAP only
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["east"], products["MUG"], on_hand=5)
    stocked(network["west"], products["CAP"], on_hand=5)
    order = captured_order(skus=["TEE", "MUG", "CAP"], shipping_address=NYC_ADDRESS)

    # when
    decision = route_order(order_id=order.pk, actor=SYSTEM)

    # then
    assert decision.outcome == "routed"
    assert sorted(Reservation.objects.values_list("order_line__sku", "node__code")) == [
        ("CAP", "dc-west"),
        ("MUG", "dc-east"),
        ("TEE", "dc-east"),
    ]
    assert decision.plan["attempts"][0]["shipments"] == 2


def test_nothing_in_stock_backorders_then_stock_arrival_allocates_oldest_first(
    network, products, django_capture_on_commit_callbacks
):
    # given: two orders wait for the same product; the older one was placed first
    from datetime import UTC, datetime

    older = captured_order(
        external_id="OLD",
        skus=["MUG"],
        shipping_address=NYC_ADDRESS,
        placed_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
    )
    newer = captured_order(
        external_id="NEW",
        skus=["MUG"],
        shipping_address=NYC_ADDRESS,
        placed_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
    )
    stocked(network["east"], products["MUG"], on_hand=0)
    for order in (newer, older):
        assert route_order(order_id=order.pk, actor=SYSTEM).outcome == "backordered"

    # when: one unit arrives at the east DC
    with django_capture_on_commit_callbacks(execute=True):
        apply_adjustment(
            node_code="dc-east",
            message_id="rcv-1",
            source="wms",
            lines=[("MUG", 1, "receipt")],
            actor=SYSTEM,
        )

    # then: the older order got it, the newer still waits
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (OrderStatus.RELEASED, OrderStatus.BACKORDERED)
    assert event_types(older) == [
        "order.created",
        "order.backordered",
        "order.status_changed",  # created → backordered
        "order.routed",
        "order.status_changed",  # backordered → allocated
        "fulfillment.created",
        "fulfillment.released",
        "order.status_changed",  # → released
    ]
    routed = Event.objects.get(stream=older.stream, type="order.routed")
    assert routed.payload["trigger"] == "stock_arrived"


def test_partial_backorder_reserves_what_exists_and_waits_for_the_rest(network, products):
    # given
    stocked(network["east"], products["TEE"], on_hand=3)
    order = captured_order(skus=["TEE"], quantity=5, shipping_address=NYC_ADDRESS)

    # when
    decision = route_order(order_id=order.pk, actor=SYSTEM)

    # then
    order.refresh_from_db()
    assert decision.outcome == "partially_backordered"
    assert order.status == OrderStatus.BACKORDERED
    assert reserved_at(network["east"], products["TEE"]) == 3
    backordered = Event.objects.get(stream=order.stream, type="order.backordered")
    assert backordered.payload["lines"] == [{"line_number": 1, "sku": "TEE", "quantity": 2}]

    # and when two more arrive, only the missing two are routed
    apply_adjustment(
        node_code="dc-east",
        message_id="rcv-2",
        source="wms",
        lines=[("TEE", 2, "receipt")],
        actor=SYSTEM,
    )
    route_order(order_id=order.pk, actor=SYSTEM, trigger="stock_arrived")
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert reserved_at(network["east"], products["TEE"]) == 5
    assert Reservation.objects.aggregate(total=Sum("quantity"))["total"] == 5


def test_a_held_order_is_not_routed(network, products):
    stocked(network["east"], products["TEE"], on_hand=5)
    order = captured_order(skus=["TEE"], shipping_address=NYC_ADDRESS)
    place_hold(order_id=order.pk, kind="fraud", reason="score 97", actor=SYSTEM)

    outcome = orchestrate_order(order_id=order.pk)

    assert outcome == Outcome.ON_HOLD
    assert not Reservation.objects.exists()
    assert reserved_at(network["east"], products["TEE"]) == 0


def test_stock_taken_between_planning_and_reserving_is_planned_again(
    network, products, monkeypatch
):
    # given: east is nearer, but another order takes its last units right after planning
    stocked(network["east"], products["TEE"], on_hand=1)
    stocked(network["west"], products["TEE"], on_hand=5)
    rival = captured_order(external_id="RIVAL", skus=["TEE"], shipping_address=NYC_ADDRESS)
    order = captured_order(skus=["TEE"], shipping_address=NYC_ADDRESS)
    from fulfillment.services import routing

    real_plan = routing.plan_order
    calls = []

    def plan_then_lose_the_race(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        if not calls:
            reserve(
                requests=[
                    ReservationRequest(
                        node_id=network["east"].pk,
                        product_id=products["TEE"].pk,
                        quantity=1,
                        order_line_id=rival.lines.get().pk,
                    )
                ],
                actor=SYSTEM,
                reference_id=rival.number,
            )
        calls.append(plan)
        return plan

    monkeypatch.setattr(routing, "plan_order", plan_then_lose_the_race)

    # when
    decision = route_order(order_id=order.pk, actor=SYSTEM)

    # then
    assert decision.outcome == "routed"
    assert len(calls) == 2
    assert [a["node_code"] for a in decision.plan["attempts"][0]["assignments"]] == ["dc-east"]
    assert list(
        Reservation.objects.filter(order_line__order=order).values_list("node__code", flat=True)
    ) == ["dc-west"]
    assert reserved_at(network["east"], products["TEE"]) == 1  # the rival's unit only


def test_a_node_at_its_daily_capacity_is_passed_over(network, products):
    # given: the east DC takes one order a day and already took one today
    from fulfillment.services.routing import forget_cached_load

    network["east"].daily_capacity = 1
    network["east"].save(update_fields=["daily_capacity"])
    stocked(network["east"], products["TEE"], on_hand=10)
    stocked(network["west"], products["TEE"], on_hand=10)
    first = captured_order(external_id="C-1", skus=["TEE"], shipping_address=NYC_ADDRESS)
    second = captured_order(external_id="C-2", skus=["TEE"], shipping_address=NYC_ADDRESS)
    route_order(order_id=first.pk, actor=SYSTEM)
    forget_cached_load()

    # when
    decision = route_order(order_id=second.pk, actor=SYSTEM)

    # then
    assert list(
        Reservation.objects.filter(order_line__order=second).values_list("node__code", flat=True)
    ) == ["dc-west"]
    east = next(c for c in decision.plan["attempts"][0]["candidates"] if c["code"] == "dc-east")
    assert [e["filter"] for e in east["excluded"]] == ["capacity"]


# What route_order costs in statements for a 3-line order (docs/performance.md, routing):
# lock the order; lock the lines and read their coverage, progress, the failed nodes, the
# stream's last event and the active rule set; the day's load per node (cached per process for
# a few seconds; counted here); the candidates (nodes with their stock); one UPDATE reserving
# every stock row; the reservations with their ledger movements; the decision; the lines' and
# the order's new status (one statement: rollup.StatusWrites.flush); order.routed and
# order.status_changed in one INSERT (recorded in that order, written together at the end:
# oms.events.services.events_in_one_insert). Inside the test's transaction atomic() is a
# savepoint (2 statements) where production has BEGIN and COMMIT.
ROUTE_3_LINES_STATEMENTS = [
    "SAVEPOINT",
    "SELECT orders_order FOR UPDATE",
    "SELECT orders_orderline FOR UPDATE (+ coverage, failed nodes, stream tail, rule set)",
    "SELECT inventory_reservation (today's load per node)",
    "SELECT inventory_node + inventory_stocklevel",
    "UPDATE inventory_stocklevel (all rows)",
    "INSERT inventory_reservation with INSERT inventory_inventorymovement (one statement)",
    "INSERT fulfillment_routingdecision",
    "UPDATE orders_order with UPDATE orders_orderline (one statement)",
    "INSERT events_event (order.routed, order.status_changed: one statement)",
    "RELEASE SAVEPOINT",
]


def test_route_order_of_three_lines_takes_a_fixed_number_of_statements(network, products):
    # given: three lines, each at a different node of the three (one reservation each)
    stocked(network["east"], products["TEE"], on_hand=5)
    stocked(network["west"], products["MUG"], on_hand=5)
    stocked(network["nyc"], products["CAP"], on_hand=5)
    order = captured_order(skus=["TEE", "MUG", "CAP"], quantity=1, shipping_address=NYC_ADDRESS)
    forget_cached_load()

    # when
    with CaptureQueriesContext(connection) as queries:
        decision = route_order(order_id=order.pk, actor=SYSTEM)

    # then
    assert decision.outcome == "routed"
    assert Reservation.objects.filter(order_line__order=order).count() == 3
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == len(ROUTE_3_LINES_STATEMENTS), "\n".join(s[:160] for s in statements)
    assert event_types(order) == ["order.created", "order.routed", "order.status_changed"]


def test_the_days_load_per_node_is_added_up_since_the_last_look_and_equals_a_full_count(
    network, products, monkeypatch
):
    from datetime import timedelta

    from fulfillment.services import routing

    monkeypatch.setattr(routing, "LOAD_CACHE_SECONDS", 0.0)  # look again on every call
    forget_cached_load()
    stocked(network["east"], products["TEE"], on_hand=10)
    east = network["east"].pk
    first = captured_order(external_id="L-1", skus=["TEE"], shipping_address=NYC_ADDRESS)
    route_order(order_id=first.pk, actor=SYSTEM)
    assert routing.orders_routed_today_by_node()[east] == 1

    # when: another order, whose reservation carries a time before the last look (a transaction
    # that began earlier and committed later), and a look again with nothing new
    second = captured_order(external_id="L-2", skus=["TEE"], shipping_address=NYC_ADDRESS)
    route_order(order_id=second.pk, actor=SYSTEM)
    Reservation.objects.filter(order_line__order=second).update(
        created_at=timezone.now() - timedelta(seconds=60)
    )
    added = routing.orders_routed_today_by_node()[east]
    again = routing.orders_routed_today_by_node()[east]

    # then: each order once, as a count of the whole day gives
    forget_cached_load()
    assert (added, again, routing.orders_routed_today_by_node()[east]) == (2, 2, 2)
