"""The ledger: every counter change has its movement, and counters equal the ledger's sums."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.models import (
    ImmutableMovementError,
    InventoryMovement,
    StockLevel,
)
from inventory.reservations import ReservationRequest, consume, release, reserve
from inventory.selectors import LedgerMismatch, find_ledger_mismatches
from inventory.services.feeds import apply_adjustment, apply_snapshot
from inventory.services.ledger import (
    InitialStock,
    rebuild_stock_levels_from_ledger,
    set_initial_stock,
)
from oms.core.actors import Actor
from oms.events.models import Event
from tests.factories.inventory import (
    NodeFactory,
    OrderLineFactory,
    ProductFactory,
    StockLevelFactory,
    stocked,
)

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def ledger_sums(level: StockLevel) -> tuple[int, int]:
    rows = InventoryMovement.objects.filter(node_id=level.node_id, product_id=level.product_id)
    return (
        sum(rows.values_list("delta_on_hand", flat=True)),
        sum(rows.values_list("delta_reserved", flat=True)),
    )


def test_counters_equal_the_ledger_after_a_mix_of_operations():
    # given
    node = NodeFactory(code="dc-east")
    tee, mug = ProductFactory(sku="TEE"), ProductFactory(sku="MUG")
    tee_level, mug_level = stocked(node, tee, on_hand=20), stocked(node, mug, on_hand=5)
    line = OrderLineFactory(product=tee)
    now = timezone.now()

    # when: reserve, count, adjust, ship part, release, count again
    with transaction.atomic():
        first, second, _ = reserve(
            requests=[
                ReservationRequest(node.pk, tee.pk, 6, line.pk),
                ReservationRequest(node.pk, tee.pk, 4, line.pk),
                ReservationRequest(node.pk, mug.pk, 9, line.pk),  # too many: None
            ],
            actor=ACTOR,
            reference_id="OMS-MIX0-0001",
        )
    apply_snapshot(
        node_code="dc-east",
        as_of=now - timedelta(hours=1),
        counts={"TEE": 18, "MUG": 7},
        source="wms",
        message_id="count-1",
        actor=ACTOR,
    )
    apply_adjustment(
        node_code="dc-east",
        message_id="adj-1",
        source="wms",
        lines=[("MUG", -2, "damaged"), ("TEE", 3, "found")],
        actor=ACTOR,
    )
    with transaction.atomic():
        consume(reservation_id=first.pk, quantity=5, actor=ACTOR)
        release(reservation_ids=[second.pk], actor=ACTOR, reason="cancelled")
    apply_snapshot(
        node_code="dc-east",
        as_of=now,
        counts={"TEE": 17},  # MUG not listed: counts 0
        source="wms",
        message_id="count-2",
        actor=ACTOR,
    )

    # then
    tee_level.refresh_from_db()
    mug_level.refresh_from_db()
    assert (tee_level.on_hand, tee_level.reserved) == (17, 0)
    assert (mug_level.on_hand, mug_level.reserved) == (0, 0)
    assert ledger_sums(tee_level) == (17, 0)
    assert ledger_sums(mug_level) == (0, 0)
    assert find_ledger_mismatches() == []
    assert list(
        InventoryMovement.objects.filter(product=tee).values_list(
            "reason", "delta_on_hand", "delta_reserved"
        )
    ) == [
        ("adjustment", 20, 0),
        ("reservation", 0, 6),
        ("reservation", 0, 4),
        ("snapshot", -2, 0),
        ("adjustment", 3, 0),
        ("shipment", -5, -5),
        ("release", 0, -1),
        ("release", 0, -4),
        ("snapshot", 1, 0),
    ]


def test_a_counter_written_around_the_services_is_found_and_rebuilt_from_the_ledger():
    # given: one level through the ledger, then a hand edit; one level with no ledger at all
    good = stocked(NodeFactory(code="dc-east"), ProductFactory(sku="TEE"), on_hand=7)
    StockLevel.objects.filter(pk=good.pk).update(on_hand=9, reserved=1)  # a hand edit
    rogue = StockLevelFactory(node=good.node, product=ProductFactory(sku="CAP"), on_hand=4)

    # when
    found = find_ledger_mismatches()
    rebuilt = rebuild_stock_levels_from_ledger(actor=ACTOR)

    # then
    assert found == [
        LedgerMismatch(good.pk, good.node_id, good.product_id, "TEE", 9, 7, 1, 0),
        LedgerMismatch(rogue.pk, rogue.node_id, rogue.product_id, "CAP", 4, 0, 0, 0),
    ]
    assert rebuilt == found
    assert find_ledger_mismatches() == []
    good.refresh_from_db()
    rogue.refresh_from_db()
    assert (good.on_hand, good.reserved, rogue.on_hand) == (7, 0, 0)
    event = Event.objects.get(type="inventory.stock_rebuilt")
    assert event.stream == "node:dc-east"
    assert event.payload == {
        "corrections": [
            {"sku": "TEE", "on_hand_before": 9, "on_hand": 7, "reserved_before": 1, "reserved": 0},
            {"sku": "CAP", "on_hand_before": 4, "on_hand": 0, "reserved_before": 0, "reserved": 0},
        ]
    }


def test_rebuild_when_everything_agrees_writes_nothing():
    # given
    stocked(on_hand=3)
    events_before = Event.objects.count()

    # when
    rebuilt = rebuild_stock_levels_from_ledger(actor=ACTOR)

    # then
    assert rebuilt == []
    assert Event.objects.count() == events_before


def test_set_initial_stock_creates_missing_levels_through_the_ledger_and_keeps_existing_ones():
    # given
    node = NodeFactory(code="store-1")
    kept, new, empty = ProductFactory(sku="KEPT"), ProductFactory(sku="NEW"), ProductFactory()
    existing = stocked(node, kept, on_hand=2)
    reported = timezone.now() - timedelta(minutes=5)

    # when
    created = set_initial_stock(
        node_id=node.pk,
        levels=[
            InitialStock(kept.pk, on_hand=50),
            InitialStock(new.pk, on_hand=12, safety_stock=2),
            InitialStock(empty.pk, on_hand=0),
        ],
        actor=ACTOR,
        reported_at=reported,
    )

    # then
    assert created == 2
    existing.refresh_from_db()
    assert existing.on_hand == 2
    level = StockLevel.objects.get(node=node, product=new)
    assert (level.on_hand, level.safety_stock, level.available) == (12, 2, 10)
    assert level.last_reported_at == reported
    assert StockLevel.objects.get(node=node, product=empty).on_hand == 0
    movement = InventoryMovement.objects.get(product=new)
    assert (movement.reason, movement.delta_on_hand, movement.reference_type) == (
        "adjustment",
        12,
        "initial_stock",
    )
    assert not InventoryMovement.objects.filter(product=empty).exists()  # 0 units: no movement
    assert list(
        Event.objects.filter(type="inventory.stock_initialized", stream="node:store-1")
        .order_by("seq")
        .values_list("payload", flat=True)
    ) == [
        {"rows_created": 1, "units": 2, "source_system": "seed"},
        {"rows_created": 2, "units": 12, "source_system": "seed"},
    ]
    assert find_ledger_mismatches() == []


def test_set_initial_stock_with_nothing_new_records_nothing():
    # given
    level = stocked(on_hand=4)
    events_before = Event.objects.count()

    # when
    created = set_initial_stock(
        node_id=level.node_id, levels=[InitialStock(level.product_id, on_hand=9)], actor=ACTOR
    )

    # then
    assert created == 0
    assert Event.objects.count() == events_before
    assert InventoryMovement.objects.count() == 1


def test_the_ledger_is_append_only():
    # given
    stocked(on_hand=4)
    movement = InventoryMovement.objects.get()

    # when / then
    with pytest.raises(ImmutableMovementError):
        movement.save()
    with pytest.raises(ImmutableMovementError):
        InventoryMovement.objects.update(delta_on_hand=5)
    with pytest.raises(ImmutableMovementError):
        InventoryMovement.objects.all().delete()
    movement.refresh_from_db()
    assert movement.delta_on_hand == 4
