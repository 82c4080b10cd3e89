"""Event types of the fulfillment app (payloads documented in docs/events.md)."""

from oms.events.registry import register

RULESET_CREATED = register(
    "routing_rules.created", description="A routing rule set version was drafted."
)
RULESET_SUBMITTED = register(
    "routing_rules.submitted", description="A draft was submitted for approval."
)
RULESET_APPROVED = register(
    "routing_rules.approved", description="A second person approved the set; it is active."
)
RULESET_REJECTED = register(
    "routing_rules.rejected", description="The approver sent the set back to draft."
)
RULESET_RETIRED = register("routing_rules.retired", description="The set stopped being active.")
RULESET_BACKTESTED = register(
    "routing_rules.backtested", description="A backtest of the set against past orders ran."
)

# --- fulfillment orders (stream: the order's) -------------------------------------------------
FULFILLMENT_CREATED = register(
    "fulfillment.created",
    description="Work for one node was created from the order's reservations.",
)
FULFILLMENT_RELEASED = register(
    "fulfillment.released", description="The node's connector took the fulfillment order."
)
FULFILLMENT_ACCEPTED = register("fulfillment.accepted", description="The node accepted it.")
FULFILLMENT_REJECTED = register(
    "fulfillment.rejected", description="The node refused it; its stock is released and rerouted."
)
FULFILLMENT_PICKING = register("fulfillment.picking", description="The node started picking.")
FULFILLMENT_PACKED = register(
    "fulfillment.packed",
    description="Picked and packed; short quantities are written off the node and rerouted.",
)
FULFILLMENT_READY = register(
    "fulfillment.ready_for_pickup",
    description="Ready at the store: the customer is told, with the pickup code.",
)
FULFILLMENT_PICKED_UP = register(
    "fulfillment.picked_up", description="Handed to the customer after the pickup code matched."
)
FULFILLMENT_PICKUP_CODE_FAILED = register(
    "fulfillment.pickup_code_failed",
    description="A wrong pickup code was typed at hand-over (the attempt count, never the code).",
)
FULFILLMENT_PICKUP_LOCKED = register(
    "fulfillment.pickup_locked",
    description="Too many wrong pickup codes: the hand-over is locked until a supervisor "
    "unlocks it.",
)
FULFILLMENT_PICKUP_UNLOCKED = register(
    "fulfillment.pickup_unlocked",
    description="A store lead or ops unlocked the hand-over; the attempt count starts again.",
)
FULFILLMENT_EXPIRED = register(
    "fulfillment.expired", description="Not collected in time: stock released, lines cancelled."
)
FULFILLMENT_CANCELLED = register(
    "fulfillment.cancelled",
    description="Cancelled before release: its last line was cancelled, its stock released.",
)
FULFILLMENT_SHIPPED = register(
    "fulfillment.shipped", description="Parcels left the node, with carriers and tracking numbers."
)
FULFILLMENT_DELIVERED = register("fulfillment.delivered", description="Delivered to the customer.")
SHIPMENT_TRACKING_UPDATED = register(
    "shipment.tracking_updated", description="A carrier reported a new tracking status."
)
FULFILLMENT_RELEASE_FAILED = register(
    "fulfillment.release_failed",
    description="The node's connector refused the fulfillment order; the release is retried.",
)
FULFILLMENT_SENT_WHILE_CANCELLED = register(
    "fulfillment.sent_while_cancelled",
    description="Work reached the node while (some of) it was being cancelled: settle it with "
    "the node.",
)
FULFILLMENT_LINE_REMOVED = register(
    "fulfillment.line_removed",
    description="A cancelled order line was taken off a fulfillment order pending release.",
)

FULFILLMENT_SPLIT = register(
    "fulfillment.split",
    description="Part of a fulfillment order became one of its own at the same node "
    "(a parcel that carries only part of it).",
)

ORDER_LINE_REALLOCATED = register(
    "order.line_reallocated",
    description="A line's units were moved to the node another system allocated them to.",
)

# Recorded by the legacy import through fulfillment/services/history.py.
FULFILLMENT_IMPORTED = register(
    "fulfillment.imported",
    description="A legacy shipment of an imported order (node, parcels, tracking), at its time.",
)
