"""Event types of import jobs (stream `import:<job id>`; payloads in docs/events.md)."""

from oms.events.registry import register

IMPORT_FINISHED = register(
    "migration.import_finished",
    description="An import job (dry run or real run) finished: its counts and error codes.",
)
IMPORT_ACCEPTED = register(
    "migration.dry_run_accepted",
    description="A person accepted a dry run with errors, so a real run may start from it.",
)


def stream_for_job(job_id: int) -> str:
    return f"import:{job_id}"


# The cutover (stream `cutover:<channel code>`; order streams for what happens to one order).
CUTOVER_PLAN_CREATED = register(
    "cutover.plan_created", description="A draft cutover plan for a channel was written."
)
CUTOVER_PLAN_SUBMITTED = register(
    "cutover.plan_submitted", description="A cutover plan was submitted for approval."
)
CUTOVER_PLAN_APPROVED = register(
    "cutover.plan_approved",
    description="A second person approved a cutover plan: it now decides who owns new orders.",
)
CUTOVER_PLAN_REJECTED = register(
    "cutover.plan_rejected", description="A cutover plan was sent back to draft."
)
CUTOVER_PLAN_RETIRED = register(
    "cutover.plan_retired", description="A newer approved plan replaced this one."
)


def stream_for_channel_cutover(channel_code: str) -> str:
    return f"cutover:{channel_code}"


# Order status reconciliation during dual running (stream `status-reconciliation:<id>`).
STATUSES_RECONCILED = register(
    "migration.statuses_reconciled",
    description="oms's order statuses were compared with a legacy status feed: the figures.",
)


def stream_for_status_reconciliation(reconciliation_id: int) -> str:
    return f"status-reconciliation:{reconciliation_id}"
