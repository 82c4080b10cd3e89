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
