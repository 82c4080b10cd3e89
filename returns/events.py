"""Event types of returns, refunds and exchanges (payloads documented in docs/events.md,
"Returns, refunds and exchanges").

They belong to the order's stream (`order:<number>`): a return, its refunds and its exchange
are part of the order's story, so the timeline, webhooks and replays see them in order with
the rest. The services hold the order's row lock while they record them.
"""

from oms.events.registry import register

RETURN_REQUESTED = register(
    "return.requested",
    description="A return (RMA) was opened for some units of the order, under a policy version.",
)
RETURN_AUTHORIZED = register(
    "return.authorized", description="The return was accepted: the customer may send it back."
)
RETURN_REJECTED = register(
    "return.rejected", description="Customer service refused the return, with the reason."
)
RETURN_CANCELLED = register(
    "return.cancelled", description="The return was withdrawn before anything came back."
)
RETURN_LABEL_CREATED = register(
    "return.label_created",
    description="A return label was bought from the carrier (carrier, tracking number, cost).",
)
RETURN_IN_TRANSIT = register(
    "return.in_transit", description="The customer's parcel is on its way back."
)
RETURN_RECEIVED = register(
    "return.received",
    description="Units arrived at a node (a DC, a store counter) and were counted.",
)
RETURN_INSPECTED = register(
    "return.inspected",
    description="Every unit received has a disposition: restock, damaged, vendor return, "
    "destroy; restocked units are back on sale.",
)
RETURN_CLOSED = register(
    "return.closed", description="Nothing left to do: refunded, exchanged or settled."
)
REFUND_REQUESTED = register(
    "refund.requested",
    description="A refund was computed and is being sent to the payment provider.",
)
REFUND_SUCCEEDED = register(
    "refund.succeeded", description="The payment provider refunded the amount."
)
REFUND_FAILED = register(
    "refund.failed",
    description="The payment provider declined the refund; an exception case is open until a "
    "person retries it.",
)
EXCHANGE_CREATED = register(
    "exchange.created",
    description="An exchange was agreed for a return: even (ships when the return arrives) or "
    "advance (ships now).",
)
EXCHANGE_REPLACEMENT_PLACED = register(
    "exchange.replacement_placed",
    description="The replacement order was captured on the same channel, at no charge.",
)
EXCHANGE_CHARGED = register(
    "exchange.charged",
    description="An advance exchange's return never arrived within the window: the "
    "replacement was charged.",
)
EXCHANGE_CANCELLED = register(
    "exchange.cancelled",
    description="The exchange was called off with its return (cancelled or rejected) before "
    "any replacement was placed: nothing ships and nothing is charged.",
)
EXCHANGE_COMPLETED = register(
    "exchange.completed",
    description="The return of an exchange arrived: an even exchange's replacement was placed, "
    "an advance exchange came back in time and its replacement settled at no charge.",
)
