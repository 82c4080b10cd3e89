"""Row locks for the order aggregate. Lock order across the project (inventory/locks.py has the
full list): order → its lines (by id) → node → reservations (by id) → stock levels
(node_id, product_id). Every helper refuses to run outside a transaction."""

from oms.core.errors import NotFound
from oms.core.transactions import require_atomic
from orders.models import Order


def lock_order(order_id: int) -> Order:
    require_atomic("lock_order()")
    try:
        return Order.objects.select_for_update(of=("self",)).get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found") from None
