"""inventory/reservations.py: reserve, release, consume, release_for_order_lines."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory.exceptions import InvalidQuantity, ReservationRefused
from inventory.models import InventoryMovement, Reservation, ReservationStatus, StockLevel
from inventory.reservations import (
    ReservationRequest,
    consume,
    release,
    release_for_order_lines,
    reserve,
    split_reservation,
)
from inventory.selectors import find_ledger_mismatches
from inventory.services.feeds import apply_snapshot
from oms.core.actors import Actor
from oms.core.errors import NotFound
from oms.events.models import Event
from tests.factories.inventory import NodeFactory, OrderLineFactory, ProductFactory, stocked

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("router")


def counters(level: StockLevel) -> tuple[int, int, int]:
    level.refresh_from_db()
    return level.on_hand, level.reserved, level.available


def request_for(level: StockLevel, quantity: int, line=None) -> ReservationRequest:
    line = line or OrderLineFactory(product=level.product, quantity=quantity)
    return ReservationRequest(
        node_id=level.node_id,
        product_id=level.product_id,
        quantity=quantity,
        order_line_id=line.pk,
    )


def reserved(level: StockLevel, quantity: int) -> Reservation:
    with transaction.atomic():
        [reservation] = reserve(
            requests=[request_for(level, quantity)], actor=ACTOR, reference_id="OMS-AAAA-0001"
        )
    assert reservation is not None
    return reservation


def test_reserve_takes_stock_writes_a_reservation_and_a_ledger_row():
    # given
    level = stocked(on_hand=10, safety_stock=1)
    line = OrderLineFactory(product=level.product, quantity=3)

    # when
    with transaction.atomic():
        [reservation] = reserve(
            requests=[request_for(level, 3, line)], actor=ACTOR, reference_id="OMS-AAAA-0001"
        )

    # then
    assert counters(level) == (10, 3, 6)
    assert reservation.pk is not None
    assert (reservation.stock_level_id, reservation.order_line_id, reservation.quantity) == (
        level.pk,
        line.pk,
        3,
    )
    assert reservation.status == ReservationStatus.ACTIVE
    assert reservation.reference_id == "OMS-AAAA-0001"
    movement = InventoryMovement.objects.filter(reason="reservation").get()
    assert (movement.delta_on_hand, movement.delta_reserved) == (0, 3)
    assert (movement.reference_type, movement.reference_id) == ("order", "OMS-AAAA-0001")
    assert (movement.actor_kind, movement.actor_label) == ("system", "router")
    assert find_ledger_mismatches() == []
    assert (
        not Event.objects.filter(type__startswith="inventory.")
        .exclude(type="inventory.stock_initialized")
        .exists()
    )


def test_reserve_returns_none_where_stock_is_short_and_writes_nothing_for_it():
    # given
    node = NodeFactory()
    enough = stocked(node, ProductFactory(sku="ENOUGH"), on_hand=5)
    short = stocked(node, ProductFactory(sku="SHORT"), on_hand=2, safety_stock=1)
    nowhere = ProductFactory(sku="NOWHERE")  # no stock level at the node at all
    requests = [
        request_for(short, 2),
        request_for(enough, 5),
        ReservationRequest(
            node_id=node.pk,
            product_id=nowhere.pk,
            quantity=1,
            order_line_id=OrderLineFactory(product=nowhere).pk,
        ),
    ]

    # when
    with transaction.atomic():
        results = reserve(requests=requests, actor=ACTOR, reference_id="OMS-AAAA-0002")

    # then: results in input order
    assert [r is not None for r in results] == [False, True, False]
    assert results[1].product_id == enough.product_id
    assert counters(short) == (2, 0, 1)
    assert counters(enough) == (5, 5, 0)
    assert Reservation.objects.count() == 1
    assert InventoryMovement.objects.filter(reason="reservation").count() == 1


def test_reserve_runs_stock_updates_in_node_then_product_order():
    # given: requests deliberately out of order
    first, second = NodeFactory(), NodeFactory()
    a, b = ProductFactory(), ProductFactory()
    levels = [stocked(n, p, on_hand=5) for n in (second, first) for p in (b, a)]
    requests = [request_for(level, 1) for level in levels]

    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    # when
    with transaction.atomic(), connection.execute_wrapper(record):
        reserve(requests=requests, actor=ACTOR, reference_id="OMS-AAAA-0003")

    # then: one statement takes every row; it locks them in the order of its id array (its
    # first parameter, bound by the server)
    [(statement, params)] = [(sql, p) for sql, p in sent if "FOR UPDATE OF s" in sql]
    locked = list(params[0])
    assert locked == [lv.pk for lv in sorted(levels, key=lambda lv: (lv.node_id, lv.product_id))]
    assert "ORDER BY w.position" in statement
    assert [counters(level) for level in levels] == [(5, 1, 4)] * 4


def test_reserve_takes_two_requests_for_one_stock_level_each_on_its_own():
    # given: two lines of the same product at one node, 4 units available
    level = stocked(on_hand=4)
    requests = [request_for(level, 3), request_for(level, 2), request_for(level, 1)]

    # when
    with transaction.atomic():
        results = reserve(requests=requests, actor=ACTOR, reference_id="OMS-AAAA-0006")

    # then: all or nothing per request, in the lock order (the input order here)
    assert [r is not None for r in results] == [True, False, True]
    assert counters(level) == (4, 4, 0)
    assert Reservation.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_reserve_refuses_to_run_outside_a_transaction():
    # given
    level = stocked(on_hand=5)
    requests = [request_for(level, 1)]

    # when / then
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        reserve(requests=requests, actor=ACTOR, reference_id="OMS-AAAA-0004")
    assert counters(level) == (5, 0, 5)


def test_reserve_refuses_a_non_positive_quantity_and_writes_nothing():
    # given
    level = stocked(on_hand=5)
    requests = [request_for(level, 1), request_for(level, 1)]
    requests[1] = replace(requests[1], quantity=0)

    # when
    with pytest.raises(InvalidQuantity) as raised, transaction.atomic():
        reserve(requests=requests, actor=ACTOR, reference_id="OMS-AAAA-0005")

    # then
    assert raised.value.code == "invalid_quantity"
    assert counters(level) == (5, 0, 5)
    assert not Reservation.objects.exists()


def test_release_gives_the_units_back_and_is_idempotent():
    # given
    level = stocked(on_hand=10)
    reservation = reserved(level, 4)

    # when
    with transaction.atomic():
        first = release(reservation_ids=[reservation.pk], actor=ACTOR, reason="order cancelled")
    with transaction.atomic():
        second = release(reservation_ids=[reservation.pk], actor=ACTOR, reason="again")

    # then
    assert [r.pk for r in first] == [reservation.pk]
    assert second == []
    reservation.refresh_from_db()
    assert (reservation.status, reservation.reason) == ("released", "order cancelled")
    assert reservation.released_at is not None
    assert counters(level) == (10, 0, 10)
    releases = InventoryMovement.objects.filter(reason="release")
    assert list(releases.values_list("delta_reserved", "reference_id", "note")) == [
        (-4, "OMS-AAAA-0001", "order cancelled")
    ]
    assert find_ledger_mismatches() == []


def test_release_of_an_unknown_reservation_is_refused_and_releases_nothing():
    # given
    level = stocked(on_hand=10)
    reservation = reserved(level, 4)

    # when
    with pytest.raises(NotFound) as raised, transaction.atomic():
        release(reservation_ids=[reservation.pk, 999_999], actor=ACTOR, reason="x")

    # then
    assert raised.value.code == "reservation_not_found"
    assert counters(level) == (10, 4, 6)
    assert Reservation.objects.get().status == ReservationStatus.ACTIVE


def test_consume_ships_the_quantity_and_releases_the_rest():
    # given
    level = stocked(on_hand=10)
    reservation = reserved(level, 4)

    # when
    with transaction.atomic():
        consumed = consume(reservation_id=reservation.pk, quantity=3, actor=ACTOR)

    # then
    assert (consumed.status, consumed.consumed_quantity) == ("consumed", 3)
    assert counters(level) == (7, 0, 7)
    movements = InventoryMovement.objects.exclude(reason="adjustment").order_by("id")
    assert list(movements.values_list("reason", "delta_on_hand", "delta_reserved")) == [
        ("reservation", 0, 4),
        ("shipment", -3, -3),
        ("release", 0, -1),
    ]
    assert find_ledger_mismatches() == []


def test_consume_twice_ships_once():
    # given
    level = stocked(on_hand=10)
    reservation = reserved(level, 2)
    with transaction.atomic():
        consume(reservation_id=reservation.pk, quantity=2, actor=ACTOR)

    # when
    with transaction.atomic():
        again = consume(reservation_id=reservation.pk, quantity=2, actor=ACTOR)

    # then
    assert again.status == ReservationStatus.CONSUMED
    assert counters(level) == (8, 0, 8)
    assert InventoryMovement.objects.filter(reason="shipment").count() == 1


@pytest.mark.parametrize(
    ("_case", "released_first", "quantity", "code"),
    [
        ("released reservation", True, 1, "reservation_released"),
        ("more than reserved", False, 3, "consume_exceeds_reservation"),
    ],
)
def test_consume_refusals_change_nothing(_case, released_first, quantity, code):
    # given
    level = stocked(on_hand=10)
    reservation = reserved(level, 2)
    with transaction.atomic():
        release(reservation_ids=[reservation.pk] if released_first else [], actor=ACTOR, reason="x")
    before = (counters(level), InventoryMovement.objects.count())

    # when
    with pytest.raises(ReservationRefused) as raised, transaction.atomic():
        consume(reservation_id=reservation.pk, quantity=quantity, actor=ACTOR)

    # then
    assert raised.value.code == code
    assert (counters(level), InventoryMovement.objects.count()) == before


def test_consume_beyond_the_counted_on_hand_is_refused():
    # given: the node counted 1 after 2 were reserved (an oversell)
    level = stocked(on_hand=2)
    reservation = reserved(level, 2)
    apply_snapshot(
        node_code=level.node.code,
        as_of=timezone.now() - timedelta(minutes=1),
        counts={level.product.sku: 1},
        source="wms",
        message_id="count-1",
        actor=ACTOR,
    )

    # when
    with pytest.raises(ReservationRefused) as raised, transaction.atomic():
        consume(reservation_id=reservation.pk, quantity=2, actor=ACTOR)

    # then
    assert raised.value.code == "shipment_exceeds_on_hand"
    assert counters(level) == (1, 2, -1)
    assert Reservation.objects.get().status == ReservationStatus.ACTIVE


def test_release_for_order_lines_releases_only_their_active_reservations():
    # given
    level = stocked(on_hand=10)
    line, other_line = OrderLineFactory(product=level.product), OrderLineFactory()
    with transaction.atomic():
        mine = reserve(
            requests=[request_for(level, 2, line), request_for(level, 1, line)],
            actor=ACTOR,
            reference_id="OMS-AAAA-0006",
        )
        [other] = reserve(
            requests=[request_for(level, 3, other_line)], actor=ACTOR, reference_id="OMS-B"
        )

    # when
    with transaction.atomic():
        released = release_for_order_lines(
            order_line_ids=[line.pk], actor=ACTOR, reason="line cancelled"
        )

    # then
    assert sorted(r.pk for r in released) == sorted(r.pk for r in mine)
    other.refresh_from_db()
    assert other.status == ReservationStatus.ACTIVE
    assert counters(level) == (10, 3, 7)
    assert find_ledger_mismatches() == []


def test_split_reservation_moves_units_to_a_new_row_without_touching_counters_or_ledger():
    level = stocked(on_hand=10)
    reservation = reserved(level, 3)
    movements = InventoryMovement.objects.count()

    with transaction.atomic():
        part = split_reservation(reservation_id=reservation.pk, quantity=2)

    reservation.refresh_from_db()
    assert (reservation.quantity, part.quantity) == (1, 2)
    assert (part.status, part.order_line_id, part.stock_level_id) == (
        ReservationStatus.ACTIVE,
        reservation.order_line_id,
        level.pk,
    )
    assert counters(level) == (10, 3, 7)
    assert InventoryMovement.objects.count() == movements
    assert find_ledger_mismatches() == []
    with pytest.raises(InvalidQuantity), transaction.atomic():
        split_reservation(reservation_id=reservation.pk, quantity=1)  # nothing would be left
    with transaction.atomic():
        release(reservation_ids=[part.pk], actor=ACTOR, reason="test")
    with pytest.raises(ReservationRefused), transaction.atomic():
        split_reservation(reservation_id=part.pk, quantity=1)
