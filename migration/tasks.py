from celery import shared_task

from migration.services.jobs import execute_job
from migration.services.reconciliation import reconcile_all_sources
from oms.core.actors import Actor


@shared_task(name="migration.tasks.run_import_job_task")
def run_import_job_task(job_id: int, actor_label: str = "admin") -> None:
    """Run a pending import job (idempotent: a job that is not pending is left alone)."""
    execute_job(job_id=job_id, actor=Actor.system(f"import job by {actor_label}"))


@shared_task(name="migration.tasks.reconcile_inventory_task")
def reconcile_inventory_task() -> int:
    """The scheduled reconciliation of every active source; returns how many ran."""
    return len(reconcile_all_sources())
