"""Returned units back on sale: `restock_returned_units()`.

The returns app's inspection calls it for the units given the `restock` disposition. In the
caller's transaction: the node is locked, then its stock rows in product order (the project's
lock order, inventory/locks.py; the caller holds the order first), on_hand rises by one
conditional-free `F()` UPDATE per product, a `return_restock` ledger row is written per line,
and `inventory.return_restocked` is recorded on the node's stream with the products whose
available stock went above zero, so waiting backorders try them (fulfillment/handlers.py).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from inventory.events import INVENTORY_RETURN_RESTOCKED, NodeStockChange, stream_for_node
from inventory.locks import lock_node, lock_stock_levels_of_node
from inventory.models import MovementReason, Product, StockLevel
from inventory.services.movements import (
    create_missing_levels,
    more_available,
    movement,
    write_movements,
)
from oms.core.actors import Actor
from oms.core.transactions import require_atomic
from oms.events.services import record_event

RETURN_REFERENCE = "return"


@dataclass(frozen=True)
class RestockLine:
    product_id: int
    quantity: int


def restock_returned_units(
    *, node_id: int, lines: Sequence[RestockLine], reference: str, actor: Actor, note: str = ""
) -> dict[int, int]:
    """Put `lines` back into the node's on-hand (see the module docstring). Returns the new
    on_hand per product. Not idempotent by itself: the caller's inspection transition is."""
    require_atomic("restock_returned_units()")
    wanted: defaultdict[int, int] = defaultdict(int)
    for line in lines:
        if line.quantity <= 0:
            raise ValueError("restocked quantities must be positive")
        wanted[line.product_id] += line.quantity
    if not wanted:
        return {}
    node = lock_node(node_id)
    create_missing_levels(node_id, wanted)
    levels = lock_stock_levels_of_node(node_id, wanted)
    now = timezone.now()
    on_hand_before = {level.pk: level.on_hand for level in levels}
    for level in levels:
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") + wanted[level.product_id], updated_at=now
        )
    write_movements(
        [
            movement(
                node_id=node_id,
                product_id=product_id,
                delta_on_hand=quantity,
                reason=MovementReason.RETURN_RESTOCK,
                reference_type=RETURN_REFERENCE,
                reference_id=reference,
                note=note,
                actor=actor,
                occurred_at=now,
            )
            for product_id, quantity in sorted(wanted.items())
        ]
    )
    fresh = list(StockLevel.objects.filter(node_id=node_id, product_id__in=wanted))
    after = {level.product_id: level for level in fresh}
    skus = dict(Product.objects.filter(pk__in=wanted).values_list("pk", "sku"))
    restocked = tuple(sorted(more_available(fresh, on_hand_before)))
    record_event(
        stream=stream_for_node(node.code),
        type=INVENTORY_RETURN_RESTOCKED,
        actor=actor,
        payload={
            "reference": reference,
            "lines": [
                {
                    "sku": skus[p],
                    "quantity": q,
                    "on_hand": after[p].on_hand,
                    "available": after[p].available,
                }
                for p, q in sorted(wanted.items())
            ],
        },
        subject=NodeStockChange(node, restocked),  # backorders try it (fulfillment/handlers.py)
    )
    return {p: level.on_hand for p, level in after.items()}
