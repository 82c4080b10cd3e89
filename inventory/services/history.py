"""Reservations of imported history (migration/): what a legacy shipment consumed.

A fulfillment line is tied to the reservation that held its stock. For a shipment made before
oms, that reservation is written already consumed, with no ledger movement: the units left the
node before the opening count, which is the node's on-hand now. Counters and ledger are
untouched, so `find_ledger_mismatches()` stays empty. The stock level row is created at zero
when the node never held the product in oms (zero is the sum of no movements).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory.models import Reservation, ReservationStatus, StockLevel
from oms.core.bulk import copy_rows


@dataclass(frozen=True)
class ConsumedHistory:
    node_id: int
    product_id: int
    order_line_id: int
    quantity: int
    reference: str = ""  # the order number (default: the call's reference_id)


def record_consumed_history(
    *, items: list[ConsumedHistory], reference_id: str, at: datetime | None = None
) -> list[int]:
    """Consumed reservations for `items`, in their order (one COPY, oms/core/bulk.py), and the
    stock level rows at zero that are missing (one more); the reservations' ids."""
    with transaction.atomic():
        pairs = {(i.node_id, i.product_id) for i in items}
        levels = {
            (node_id, product_id): pk
            for pk, node_id, product_id in StockLevel.objects.filter(
                node_id__in={n for n, _ in pairs}, product_id__in={p for _, p in pairs}
            ).values_list("pk", "node_id", "product_id")
        }
        missing = [StockLevel(node_id=n, product_id=p) for n, p in sorted(pairs - levels.keys())]
        for level in StockLevel.objects.bulk_create(missing):
            levels[(level.node_id, level.product_id)] = level.pk
        consumed_at = at or timezone.now()
        return copy_rows(
            Reservation,
            [
                {
                    "node_id": i.node_id,
                    "product_id": i.product_id,
                    "stock_level_id": levels[(i.node_id, i.product_id)],
                    "order_line_id": i.order_line_id,
                    "reference_id": (i.reference or reference_id)[:100],
                    "quantity": i.quantity,
                    "consumed_quantity": i.quantity,
                    "status": str(ReservationStatus.CONSUMED),
                    "consumed_at": consumed_at,
                }
                for i in items
            ],
        )
