"""Row locks for the order aggregate. Lock order across the project (inventory/locks.py has the
full list): order → its lines (by id) → node → reservations (by id) → stock levels
(node_id, product_id). Every helper refuses to run outside a transaction."""

from oms.core.errors import NotFound
from oms.core.queries import CompiledLookup
from oms.core.transactions import require_atomic
from orders.models import Order
from orders.selectors import active_hold_exists

# Every service that changes an order takes this lock first, so its SELECT ... FOR UPDATE is
# compiled once per thread (oms/core/queries.py) and bound by the server, so prepared after a
# few runs on a connection (PostgreSQL planned it on every call): the row is still read and
# locked every time.
_locked_order: CompiledLookup[Order] = CompiledLookup(
    lambda order_id: Order.objects.select_for_update(of=("self",)).filter(pk=order_id),
    kinds=(int,),
    bound=True,
)


# The same lock, and whether an active hold stops the order, in one statement (orchestration
# checks both on every run).
_locked_order_held: CompiledLookup[Order] = CompiledLookup(
    lambda order_id: (
        Order.objects.select_for_update(of=("self",))
        .annotate(on_hold=active_hold_exists())
        .filter(pk=order_id)
    ),
    kinds=(int,),
    bound=True,
)


def lock_order(order_id: int) -> Order:
    require_atomic("lock_order()")
    order = _locked_order(order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found")
    return order


def lock_order_and_holds(order_id: int) -> tuple[Order, bool]:
    """lock_order(), and whether the order has an active hold, read under that lock."""
    require_atomic("lock_order_and_holds()")
    order = _locked_order_held(order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found")
    return order, bool(order.on_hold)  # type: ignore[attr-defined]  # the annotation above
