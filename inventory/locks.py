"""Row locks for inventory. Every helper refuses to run outside a transaction.

Lock order across the project (take them in this order, never the reverse):
    order → its lines (by id) → node (by id) → reservations (by id) →
    stock levels (by (node_id, product_id))
A reservation's conditional UPDATE locks its stock level row implicitly; callers that reserve or
release several rows go through them sorted by (node_id, product_id), which is the same order
these helpers use, so two transactions never wait on each other in a cycle.

Locks are FOR NO KEY UPDATE: they exclude other writers of the row but not the FOR KEY SHARE
lock that an INSERT referencing the row takes (a ledger row or reservation pointing at the node
or stock level). A plain FOR UPDATE on a node would make every concurrent reservation at that
node wait on the feed, and wait in the wrong order (deadlock).
"""

from collections.abc import Iterable

from inventory.models import Node, Oversell, Reservation, StockLevel
from oms.core.transactions import require_atomic


def lock_node(node_id: int) -> Node:
    require_atomic("lock_node()")
    return Node.objects.select_for_update(of=("self",), no_key=True).get(pk=node_id)


def lock_nodes(node_ids: Iterable[int]) -> list[Node]:
    require_atomic("lock_nodes()")
    return list(
        Node.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=set(node_ids))
        .order_by("pk")
    )


def lock_stock_levels_of_node(
    node_id: int, product_ids: Iterable[int] | None = None
) -> list[StockLevel]:
    """The node's stock rows (all, or those of `product_ids`), locked in product order."""
    require_atomic("lock_stock_levels_of_node()")
    rows = StockLevel.objects.select_for_update(of=("self",), no_key=True).filter(node_id=node_id)
    if product_ids is not None:
        rows = rows.filter(product_id__in=set(product_ids))
    return list(rows.order_by("product_id"))


def lock_reservations(reservation_ids: Iterable[int]) -> list[Reservation]:
    require_atomic("lock_reservations()")
    return list(
        Reservation.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=set(reservation_ids))
        .order_by("pk")
    )


def lock_oversell(oversell_id: int) -> Oversell | None:
    require_atomic("lock_oversell()")
    return (
        Oversell.objects.select_for_update(of=("self",), no_key=True).filter(pk=oversell_id).first()
    )
