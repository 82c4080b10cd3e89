"""Event types of the ops app: exception cases, exception rule sets, and the order-level
events the remedies record (payloads documented in docs/events.md, "## Exceptions")."""

from oms.events.registry import register

EXCEPTION_RAISED = register(
    "exception.raised",
    description="An exception case was opened and routed to a queue with a priority and SLA.",
)
EXCEPTION_ASSIGNED = register(
    "exception.assigned", description="An exception case was assigned to a person."
)
EXCEPTION_PROGRESSED = register(
    "exception.progressed",
    description="A remedy was applied to an exception case that stays in progress.",
)
EXCEPTION_RESOLVED = register(
    "exception.resolved", description="An exception case was resolved (with the remedy)."
)
EXCEPTION_DISMISSED = register(
    "exception.dismissed", description="An exception case was dismissed as needing no action."
)
EXCEPTION_RULES_CREATED = register(
    "exception_rules.created", description="A draft exception rule set version was created."
)
EXCEPTION_RULES_SUBMITTED = register(
    "exception_rules.submitted", description="An exception rule set was submitted for approval."
)
EXCEPTION_RULES_APPROVED = register(
    "exception_rules.approved",
    description="An exception rule set was approved by a second person and is now active.",
)
EXCEPTION_RULES_REJECTED = register(
    "exception_rules.rejected", description="An exception rule set was sent back to draft."
)
EXCEPTION_RULES_RETIRED = register(
    "exception_rules.retired", description="An exception rule set stopped being active."
)
EVENTS_ARCHIVED = register(
    "events.archived",
    description="A month of the event log was exported to an archive file and removed from it "
    "(manage.py archive_events).",
)
