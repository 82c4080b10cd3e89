"""allocate_backorders(): when stock arrives, give it to waiting lines, oldest order first."""

import logging

from fulfillment.models import RoutingTrigger
from fulfillment.services.orchestration import Outcome, orchestrate_order
from orders.models import LineStatus, Order, OrderStatus

logger = logging.getLogger(__name__)

# One pass handles at most this many waiting orders; a stock arrival that could serve more
# schedules itself again (see allocate_backorders_task), so one huge delivery never becomes
# one hours-long task.
BATCH = 200


def waiting_order_ids(product_ids: list[int], limit: int = BATCH) -> list[int]:
    """Backordered orders waiting for any of `product_ids`, oldest placed first."""
    return list(
        Order.objects.filter(
            status=OrderStatus.BACKORDERED,
            lines__status=LineStatus.BACKORDERED,
            lines__product_id__in=product_ids,
        )
        .order_by("placed_at", "id")
        .values_list("id", flat=True)
        .distinct()[:limit]
    )


def allocate_backorders(*, product_ids: list[int]) -> dict[str, int]:
    """Route waiting orders one by one in placement order, so the oldest gets the stock first.
    Each order is its own transaction (a failure on one does not undo the others). Returns how
    many orders were tried, fully allocated and still waiting."""
    tried = allocated = still_waiting = 0
    for order_id in waiting_order_ids(product_ids):
        tried += 1
        outcome = orchestrate_order(order_id=order_id, trigger=RoutingTrigger.STOCK_ARRIVED)
        if outcome == Outcome.ROUTED:
            allocated += 1
        elif outcome in (Outcome.BACKORDERED, Outcome.PARTIALLY_BACKORDERED):
            still_waiting += 1
    logger.info(
        "allocated backorders",
        extra={
            "products": product_ids,
            "tried": tried,
            "allocated": allocated,
            "still_waiting": still_waiting,
        },
    )
    return {"tried": tried, "allocated": allocated, "still_waiting": still_waiting}
