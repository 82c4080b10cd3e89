"""The operations console: the order page (customer service: timeline, routing, fulfillment,
holds, line cancellation), the exception cases (a queue per team, SLA flags, remedies as
actions), queues and exception rule sets. Every action calls a service."""

from ops.admin import (  # noqa: F401 - registers the admin classes
    cases,
    finance,
    fulfillments,
    orders,
    rulesets,
)
