"""Building and writing ledger movements. No imports beyond inventory models and core: the
reservation module and every inventory service write the ledger through here; and the two
stock-row helpers every service that raises on-hand shares."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.utils import timezone

from inventory.models import InventoryMovement, MovementReason, StockLevel
from oms.core.actors import Actor
from oms.core.queries import new_row
from oms.core.transactions import require_atomic

OMS_SOURCE = "oms"


def movement(
    *,
    node_id: int,
    product_id: int,
    reason: MovementReason,
    actor: Actor,
    delta_on_hand: int = 0,
    delta_reserved: int = 0,
    reference_type: str = "",
    reference_id: str = "",
    note: str = "",
    source_system: str = OMS_SOURCE,
    occurred_at: datetime | None = None,
) -> InventoryMovement:
    """An unsaved ledger row; write it with `write_movements()` in the same transaction as the
    counter change it describes."""
    return new_row(
        InventoryMovement,
        node_id=node_id,
        product_id=product_id,
        delta_on_hand=delta_on_hand,
        delta_reserved=delta_reserved,
        reason=reason,
        reference_type=reference_type,
        reference_id=reference_id[:100],
        note=note[:200],
        source_system=source_system[:100],
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        occurred_at=occurred_at or timezone.now(),
    )


def write_movements(movements: Sequence[InventoryMovement]) -> None:
    require_atomic("write_movements()")
    if movements:
        InventoryMovement.objects.bulk_create(movements, batch_size=1000)


def create_missing_levels(node_id: int, product_ids: Iterable[int]) -> None:
    """Stock rows at zero for the node's products that have none yet (a concurrent insert of
    the same row is ignored); callers lock the rows afterwards."""
    StockLevel.objects.bulk_create(
        [StockLevel(node_id=node_id, product_id=product_id) for product_id in set(product_ids)],
        ignore_conflicts=True,
        batch_size=1000,
    )


def more_available(levels: Sequence[StockLevel], before: dict[int, int]) -> list[int]:
    """Products whose on-hand rose (`before`: on_hand by level pk) and whose available stock is
    above zero: waiting backorders may now be served."""
    return [
        level.product_id
        for level in levels
        if level.on_hand > before[level.pk]
        and level.on_hand - level.reserved - level.safety_stock > 0
    ]
