"""Event types of the orders app (payloads documented in docs/events.md)."""

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
