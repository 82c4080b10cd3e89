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
    schema_version=2,
    description="An amount was captured: what one shipment charged, once the order shipped.",
)
ORDER_PAYMENT_FAILED = register(
    "order.payment_failed",
    schema_version=2,
    description="The payment provider refused an authorization, a capture or a void.",
)

# Recorded by orders/services/payments.py: one event per money movement (PaymentTransaction).
ORDER_PAYMENT_AUTHORIZED = register(
    "order.payment_authorized", description="The payment provider authorized an amount."
)
ORDER_PAYMENT_VOIDED = register(
    "order.payment_voided",
    description="The authorization was released: nothing more will be charged.",
)
ORDER_PAYMENT_SETTLED = register(
    "order.payment_settled",
    description="Nothing was owed: the authorization standing behind the order was released "
    "and its payment settled at zero, without a charge.",
)
ORDER_PAYMENT_REFUNDED = register(
    "order.payment_refunded", description="An amount of what was captured was refunded."
)
ORDER_REFUND_FAILED = register(
    "order.refund_failed",
    description="The payment provider declined a refund or did not answer; a case opens.",
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
    schema_version=3,
    description="An order line, or some of its units, was cancelled (reason and actor).",
)
ORDER_CANCELLED = register(
    "order.cancelled",
    description="The whole order was cancelled (reason and actor); nothing of it will ship.",
)
ORDER_CANCEL_REQUESTED = register(
    "order.cancel_requested",
    description="A cancellation of units already at a node was sent to the node; it answers.",
)
ORDER_CANCEL_REFUSED = register(
    "order.cancel_refused",
    description="The node refused a cancellation because the units had already shipped.",
)
ORDER_CHANGE_REFUSED = register(
    "order.change_refused",
    description="The node refused an address change (the parcel had left, or it cannot).",
)
ORDER_CHANGED = register(
    "order.changed",
    description="Customer service or the channel changed the order: address, service level or "
    "internal notes (who, why, before and after).",
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

# Recorded by the legacy import (migration/) through orders/services/history.py.
ORDER_CANCELLATION_IMPORTED = register(
    "order.cancellation_imported",
    description="A legacy cancellation of units of an order imported as history.",
)
ORDER_IMPORTED = register(
    "order.imported",
    description="A closed order was imported from a legacy system as history, at its source time.",
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

# The cutover from a legacy OMS (recorded by fulfillment and migration; docs/migration.md).
ORDER_HANDED_BACK = register(
    "order.handed_back",
    description="A rollback gave an unreleased oms order to the legacy system.",
)
ORDER_LINE_HANDED_BACK = register(
    "order.line_handed_back",
    description="A line of an order a rollback handed back: oms ships none of it now.",
)
ORDER_SHADOW_PLANNED = register(
    "order.shadow_planned",
    description="oms planned a legacy-owned order with its active rules, reserving nothing.",
)
ORDER_LEGACY_DECISION_RECORDED = register(
    "order.legacy_decision_recorded",
    description="The legacy system's decision for the order (nodes, splits) was mirrored in.",
)
ORDER_LEGACY_CANCELLED = register(
    "order.legacy_cancelled",
    description="The legacy system cancelled a mirrored order (whole or some lines): applied "
    "through the order cancel services, left out of the shadow comparison.",
)
ORDER_HANDOFF_QUEUED = register(
    "order.handoff_queued",
    description="The order is queued for the legacy system in its format (outbox).",
)
ORDER_HANDOFF_SENT = register(
    "order.handoff_sent", description="The legacy system took the handed-off order."
)
ORDER_HANDOFF_DEAD = register(
    "order.handoff_dead",
    description="Handing the order to the legacy system failed every retry: a case is open.",
)
