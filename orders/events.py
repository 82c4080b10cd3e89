"""Event types of the order stream's own facts (payloads documented in docs/events.md).

Every `order.*` type is declared here, in the app that owns the order stream, whichever app
records it: routing (`order.routed`, `order.backordered`, `order.unroutable`) is recorded by
fulfillment, the console's remedies (`order.manual_touch`, ...) by ops.
"""

from oms.events.registry import register

ORDER_CREATED = register(
    "order.created",
    description="An order was captured: header, totals, lines, delivery and payment state.",
)
ORDER_HOLD_PLACED = register(
    "order.hold_placed", description="A hold stops the order from being released to any node."
)
ORDER_HOLD_RELEASED = register(
    "order.hold_released", description="A hold was released; orchestration resumes if none remain."
)
ORDER_STATUS_CHANGED = register(
    "order.status_changed", description="The order's rolled-up status moved."
)
ORDER_PAYMENT_CAPTURED = register(
    "order.payment_captured",
    description="The payment was captured (when the last line shipped or was picked up).",
)
ORDER_PAYMENT_FAILED = register(
    "order.payment_failed", description="The payment provider refused the capture."
)

# Recorded by fulfillment's routing (fulfillment/services/routing.py).
ORDER_ROUTED = register(
    "order.routed",
    description="The order was routed: which node ships which quantity, and why.",
)
ORDER_BACKORDERED = register(
    "order.backordered",
    description="Some or all of the order could not be reserved anywhere and waits for stock.",
)
ORDER_UNROUTABLE = register(
    "order.unroutable",
    description="The rule set's policy refused to split or backorder: a person must decide.",
)

# Recorded by the cancellation service and the exception console's remedies.
ORDER_MANUAL_TOUCH = register(
    "order.manual_touch",
    description="A person applied a remedy to the order from the exception console.",
)
ORDER_LINE_CANCELLED = register(
    "order.line_cancelled",
    schema_version=2,
    description="One order line was cancelled before reaching a node.",
)
ORDER_RESHIP_REQUESTED = register(
    "order.reship_requested",
    description="Policy hook: a lost parcel should be reshipped (for the returns issue).",
)
ORDER_REFUND_REQUESTED = register(
    "order.refund_requested",
    description="Policy hook: a damaged or lost parcel should be refunded (for the returns issue).",
)

# Recorded by orders/services/erasure.py (ops' erase_customer command).
ORDER_PERSONAL_DATA_ERASED = register(
    "order.personal_data_erased",
    description="The customer's personal data was erased from the order; readers mask it in "
    "this stream's earlier payloads.",
)

# Recorded by orders/services/customer_service.py (the order page's actions).
ORDER_NOTE_ADDED = register(
    "order.note_added",
    description="Customer service added a note to the order (the text stays on the order row).",
)
ORDER_CONFIRMATION_RESENT = register(
    "order.confirmation_resent",
    description="Customer service asked for the order confirmation to be sent to the customer "
    "again: the channel's webhook subscriber sends it.",
)
