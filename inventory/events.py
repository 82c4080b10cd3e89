"""Event types of the inventory app (payloads documented in docs/events.md, "Inventory").

Inventory events live on the node's stream, `node:<code>`; the service holds the node row lock
while it records them. Reservations record no events of their own: the order service that
reserves, releases or ships records its order event in the same transaction.
"""

from dataclasses import dataclass
from typing import Any

from oms.events.registry import register


@dataclass(frozen=True)
class NodeStockChange:
    """The subject of the events that change on-hand counts (stock initialized, snapshot
    applied, adjusted): the node, locked by the service, and the products whose available stock
    rose above zero, so that backordered lines can try them (fulfillment/handlers.py)."""

    node: Any
    restocked_product_ids: tuple[int, ...] = ()


def stream_for_node(code: str) -> str:
    return f"node:{code}"


INVENTORY_STOCK_INITIALIZED = register(
    "inventory.stock_initialized",
    description="Stock levels were created for a node with their opening on-hand counts.",
)
INVENTORY_SNAPSHOT_APPLIED = register(
    "inventory.snapshot_applied",
    description="A node's full count was applied: on-hand set for every product of the node.",
)
INVENTORY_ADJUSTED = register(
    "inventory.adjusted",
    description="On-hand stock at a node was adjusted by deltas (damage, found, cycle count).",
)
INVENTORY_OVERSOLD = register(
    "inventory.oversold",
    description="A node holds fewer units than are reserved against it: reroute the shortfall.",
)
INVENTORY_OVERSELL_RESOLVED = register(
    "inventory.oversell_resolved",
    description="An oversell was dealt with (rerouted, cancelled or recounted) and closed.",
)
INVENTORY_SHORTAGE_RECORDED = register(
    "inventory.shortage_recorded",
    description="A node came up short on a pick or shipment: the missing units left on-hand "
    "with their reservation; the SKUs await a count.",
)
INVENTORY_RETURN_RESTOCKED = register(
    "inventory.return_restocked",
    description="Returned units inspected as resellable went back into a node's on-hand.",
)
INVENTORY_STOCK_REBUILT = register(
    "inventory.stock_rebuilt",
    description="Stock counters that disagreed with the ledger were reset to the ledger's sums.",
)
INVENTORY_RECONCILED = register(
    "inventory.reconciled",
    description="oms's on-hand counts were compared with what nodes report: pairs, accuracy "
    "and variances (stock unchanged).",
)


def stream_for_reconciliation(reconciliation_id: int) -> str:
    return f"reconciliation:{reconciliation_id}"
