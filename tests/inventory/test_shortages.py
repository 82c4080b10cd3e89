"""inventory/services/shortages.py and reservations.write_off: a short pick takes the missing
units off the node's on-hand with their reservation, and the SKU awaits a count."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.models import InventoryMovement, ReservationStatus, StockLevel
from inventory.reservations import WriteOff
from inventory.selectors import find_ledger_mismatches, skus_awaiting_count
from inventory.services.feeds import apply_adjustment, apply_snapshot
from inventory.services.shortages import record_shortages
from oms.core.actors import Actor
from oms.events.models import Event
from tests.factories.inventory import stocked
from tests.inventory.test_reservations import counters, reserved

pytestmark = pytest.mark.django_db

NODE = Actor.system("node")


def short(reservation, quantity, reason="not found"):
    with transaction.atomic():
        return record_shortages(
            shortages=[WriteOff(reservation.pk, quantity)],
            actor=NODE,
            reason=reason,
            reference="FO-1",
        )


def test_a_partial_shortage_takes_units_off_on_hand_and_the_reservation_alike():
    level = stocked_level(on_hand=10)
    reservation = reserved(level, 3)
    assert counters(level) == (10, 3, 7)

    [done] = short(reservation, 1)

    assert counters(level) == (9, 2, 7)  # available does not rise
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity) == (ReservationStatus.ACTIVE, 2)
    movement = InventoryMovement.objects.get(reason="shortage")
    assert (movement.delta_on_hand, movement.delta_reserved, movement.note) == (-1, -1, "not found")
    assert (done.quantity, done.on_hand_removed, done.available) == (1, 1, 7)
    event = Event.objects.get(type="inventory.shortage_recorded")
    assert event.stream == f"node:{level.node.code}"
    assert event.payload["lines"] == [
        {
            "sku": level.product.sku,
            "short": 1,
            "on_hand_removed": 1,
            "on_hand": 9,
            "reserved": 2,
            "available": 7,
        }
    ]
    assert find_ledger_mismatches() == []


def test_a_whole_reservation_short_is_closed_and_writing_off_again_changes_nothing():
    level = stocked_level(on_hand=4)
    reservation = reserved(level, 2)

    short(reservation, 2)
    again = short(reservation, 2)

    assert again == []
    assert counters(level) == (2, 0, 2)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.RELEASED
    assert reservation.reason.startswith("written off: ")
    assert InventoryMovement.objects.filter(reason="shortage").count() == 1
    assert find_ledger_mismatches() == []


def test_on_hand_never_goes_below_zero_after_an_oversell():
    level = stocked_level(on_hand=3)
    reservation = reserved(level, 3)
    apply_snapshot(
        node_code=level.node.code,
        as_of=timezone.now(),
        counts={level.product.sku: 1},
        source="test",
        message_id="count",
        actor=NODE,
    )
    assert counters(level)[:2] == (1, 3)

    [done] = short(reservation, 2)

    assert (done.quantity, done.on_hand_removed) == (2, 1)
    assert counters(level)[:2] == (0, 1)
    assert find_ledger_mismatches() == []


def test_a_sku_awaits_a_count_until_a_snapshot_as_of_after_the_shortage():
    level = stocked_level(on_hand=5)
    before = timezone.now()
    short(reserved(level, 2), 1)
    short(reserved(level, 2), 2)
    node, sku = level.node, level.product.sku

    [awaiting] = skus_awaiting_count(node.pk)
    assert (awaiting.sku, awaiting.short) == (sku, 3)

    # an adjustment is a delta, not a count
    apply_adjustment(
        node_code=node.code, lines=[(sku, 1, "found one")], source="t", message_id="a", actor=NODE
    )
    assert [a.sku for a in skus_awaiting_count(node.pk)] == [sku]
    # a count as of before the shortage does not cover it
    snapshot(node, sku, as_of=before, message_id="old")
    assert [a.sku for a in skus_awaiting_count(node.pk)] == [sku]
    # a count as of after it does
    snapshot(node, sku, as_of=timezone.now() + timedelta(seconds=1), message_id="new")
    assert skus_awaiting_count(node.pk) == []


def stocked_level(on_hand: int) -> StockLevel:
    return stocked(on_hand=on_hand)


def snapshot(node, sku, *, as_of, message_id):
    apply_snapshot(
        node_code=node.code,
        as_of=as_of,
        counts={sku: 1},
        source="test",
        message_id=message_id,
        actor=NODE,
    )
