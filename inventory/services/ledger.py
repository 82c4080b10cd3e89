"""The inventory ledger: writing movements, opening stock, and checking counters against it.

Invariant: for every stock level, on_hand == Σ delta_on_hand and reserved == Σ delta_reserved
over its (node, product) movements. Every writer of StockLevel counters writes the matching
movement in the same transaction; `find_ledger_mismatches()` (inventory/selectors.py) checks,
`rebuild_stock_levels_from_ledger()` repairs.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory.events import (
    INVENTORY_STOCK_INITIALIZED,
    INVENTORY_STOCK_REBUILT,
    NodeStockChange,
    stream_for_node,
)
from inventory.exceptions import InvalidQuantity
from inventory.locks import lock_node, lock_nodes, lock_stock_levels_of_node
from inventory.models import MovementReason, StockLevel
from inventory.selectors import LedgerMismatch, find_ledger_mismatches
from inventory.services.movements import movement, write_movements
from oms.core.actors import Actor
from oms.events.services import record_event


@dataclass(frozen=True)
class InitialStock:
    product_id: int
    on_hand: int
    safety_stock: int = 0


def set_initial_stock(
    *,
    node_id: int,
    levels: Sequence[InitialStock],
    actor: Actor,
    reported_at: datetime | None = None,
    source_system: str = "seed",
) -> int:
    """Create the node's missing stock levels with their opening counts; returns how many.

    Levels that already exist are left as they are (they may carry reservations): change those
    with a snapshot or an adjustment. Each opening count writes an `adjustment` movement
    (reference_type "initial_stock"); one `inventory.stock_initialized` event per call that
    creates rows. Locks the node. Schedules backorder allocation for products now available.
    """
    for level in levels:
        if level.on_hand < 0:
            raise InvalidQuantity(level.on_hand, "on_hand")
        if level.safety_stock < 0:
            raise InvalidQuantity(level.safety_stock, "safety_stock")
    now = timezone.now()
    with transaction.atomic():
        node = lock_node(node_id)
        existing = set(
            StockLevel.objects.filter(
                node_id=node_id, product_id__in=[lv.product_id for lv in levels]
            ).values_list("product_id", flat=True)
        )
        new: dict[int, InitialStock] = {}
        for level in levels:
            if level.product_id not in existing:
                new.setdefault(level.product_id, level)  # the first mention of a product wins
        if not new:
            return 0
        StockLevel.objects.bulk_create(
            [
                StockLevel(
                    node_id=node_id,
                    product_id=lv.product_id,
                    on_hand=lv.on_hand,
                    safety_stock=lv.safety_stock,
                    last_reported_at=reported_at,
                )
                for lv in new.values()
            ],
            batch_size=1000,
        )
        write_movements(
            [
                movement(
                    node_id=node_id,
                    product_id=lv.product_id,
                    delta_on_hand=lv.on_hand,
                    reason=MovementReason.ADJUSTMENT,
                    reference_type="initial_stock",
                    reference_id=node.code,
                    source_system=source_system,
                    actor=actor,
                    occurred_at=reported_at or now,
                )
                for lv in new.values()
                if lv.on_hand
            ]
        )
        record_event(
            stream=stream_for_node(node.code),
            type=INVENTORY_STOCK_INITIALIZED,
            actor=actor,
            payload={
                "rows_created": len(new),
                "units": sum(lv.on_hand for lv in new.values()),
                "source_system": source_system,
            },
            subject=NodeStockChange(
                node,
                tuple(lv.product_id for lv in new.values() if lv.on_hand - lv.safety_stock > 0),
            ),
        )
    return len(new)


def rebuild_stock_levels_from_ledger(
    *, actor: Actor, node_id: int | None = None
) -> list[LedgerMismatch]:
    """Reset every counter that disagrees with its ledger to the ledger's sums.

    Returns the mismatches found (empty when all agree, and then nothing is written). Locks the
    affected nodes, then their stock rows, then re-checks under the locks, so a reservation that
    committed meanwhile is counted. One `inventory.stock_rebuilt` event per node corrected. A
    repair, not a routine: a mismatch means something wrote counters around the services.
    """
    with transaction.atomic():
        suspects = find_ledger_mismatches(node_id=node_id)
        if not suspects:
            return []
        nodes = lock_nodes(m.node_id for m in suspects)
        for node in nodes:
            lock_stock_levels_of_node(node.pk, [m.product_id for m in suspects])
        locked = {(m.node_id, m.product_id) for m in suspects}
        mismatches = [
            m
            for m in find_ledger_mismatches(node_id=node_id)
            if (m.node_id, m.product_id) in locked
        ]
        for node in nodes:
            corrections = [m for m in mismatches if m.node_id == node.pk]
            for m in corrections:
                StockLevel.objects.filter(pk=m.stock_level_id).update(
                    on_hand=m.ledger_on_hand, reserved=m.ledger_reserved, updated_at=timezone.now()
                )
            if corrections:
                record_event(
                    stream=stream_for_node(node.code),
                    type=INVENTORY_STOCK_REBUILT,
                    actor=actor,
                    payload={
                        "corrections": [
                            {
                                "sku": m.sku,
                                "on_hand_before": m.on_hand,
                                "on_hand": m.ledger_on_hand,
                                "reserved_before": m.reserved,
                                "reserved": m.ledger_reserved,
                            }
                            for m in corrections
                        ]
                    },
                )
    return mismatches
