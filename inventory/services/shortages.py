"""Short picks and short shipments: units a node could not find leave its on-hand.

A node that packs or ships fewer units than it held is telling us its count is wrong. The
missing units must not go back on sale there (the next order would be routed to them), so
`record_shortages()` writes them off: in the caller's transaction, each reservation gives up
the short units and the stock level's on_hand falls with its reserved (`shortage` movements,
inventory/reservations.py `write_off()`), then `inventory.shortage_recorded` is recorded on the
node's stream with the node as subject. The console (ops/handlers.py) opens a `cycle_count`
case for the node listing the SKUs that await a count; the next snapshot covering them closes
it (`skus_awaiting_count()` in inventory/selectors.py says which are still waiting).

Locks: the caller holds the order; here the nodes (by id), then the reservations (by id), then
the stock rows in (node, product) order: the project's lock order (inventory/locks.py).
"""

from collections import defaultdict
from typing import Any

from inventory.events import INVENTORY_SHORTAGE_RECORDED, stream_for_node
from inventory.locks import lock_nodes
from inventory.models import Reservation
from inventory.reservations import WriteOff, WrittenOff, write_off
from oms.core.actors import Actor
from oms.core.transactions import require_atomic
from oms.events.services import record_event


def record_shortages(
    *, shortages: list[WriteOff], actor: Actor, reason: str, reference: str = ""
) -> list[WrittenOff]:
    """Write off each reservation's short units (see the module docstring) and record one
    `inventory.shortage_recorded` per node. `reference` names what came up short (the
    fulfillment order) in the event; `reason` is the node's own words (the ledger's note)."""
    require_atomic("record_shortages()")
    if not shortages:
        return []
    node_ids = set(
        Reservation.objects.filter(pk__in=[s.reservation_id for s in shortages]).values_list(
            "node_id", flat=True
        )
    )
    nodes = {node.pk: node for node in lock_nodes(node_ids)}
    written = write_off(requests=shortages, actor=actor, reason=reason[:200])
    by_node: defaultdict[int, list[WrittenOff]] = defaultdict(list)
    for item in written:
        by_node[item.reservation.node_id].append(item)
    for node_id, done in sorted(by_node.items()):
        node = nodes[node_id]
        record_event(
            stream=stream_for_node(node.code),
            type=INVENTORY_SHORTAGE_RECORDED,
            actor=actor,
            payload={
                "reference": reference,
                "order": done[0].reservation.reference_id,
                "reason": reason,
                "lines": [_line(d) for d in done],
            },
            subject=node,  # a cycle_count case (ops/handlers.py)
        )
    return written


def _line(done: WrittenOff) -> dict[str, Any]:
    return {
        "sku": done.reservation.product.sku,
        "short": done.quantity,
        "on_hand_removed": done.on_hand_removed,
        "on_hand": done.on_hand,
        "reserved": done.reserved,
        "available": done.available,
    }
