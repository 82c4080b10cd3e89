"""Event types of the fulfillment app (payloads documented in docs/events.md)."""

from oms.events.registry import register

ORDER_ROUTED = register(
    "order.routed",
    description="The order was routed: which node ships which quantity, and why.",
)
ORDER_BACKORDERED = register(
    "order.backordered",
    description="Some or all of the order could not be reserved anywhere and waits for stock.",
)
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
ORDER_UNROUTABLE = register(
    "order.unroutable",
    description="The rule set's policy refused to split or backorder: a person must decide.",
)
