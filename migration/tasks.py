"""Thin Celery wrappers. The cutover services schedule these tasks on commit, so each task
imports its service inside its body (the task→service seam of STYLE.md §6: the services import
the tasks at module top)."""

from typing import Any

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


@shared_task(name="migration.tasks.plan_shadow_order_task")
def plan_shadow_order_task(order_id: int) -> None:
    from migration.services.shadow import plan_shadow_order  # noqa: PLC0415 - task→service seam

    plan_shadow_order(order_id=order_id)


@shared_task(name="migration.tasks.send_handoff_task")
def send_handoff_task(handoff_id: int) -> None:
    from migration.services.handoff import send_handoff  # noqa: PLC0415 - task→service seam

    send_handoff(handoff_id=handoff_id)


@shared_task(name="migration.tasks.send_due_handoffs_task")
def send_due_handoffs_task() -> dict[str, int]:
    from migration.services.handoff import send_due_handoffs  # noqa: PLC0415 - task→service seam

    return send_due_handoffs()


@shared_task(name="migration.tasks.hand_back_channel_task")
def hand_back_channel_task(channel_id: int) -> dict[str, Any]:
    from migration.services.handoff import hand_back_channel  # noqa: PLC0415 - task→service seam

    result = hand_back_channel(channel_id=channel_id)
    return {"handed_back": result.handed_back, "kept": result.kept}


@shared_task(name="migration.tasks.check_cutover_thresholds_task")
def check_cutover_thresholds_task() -> dict[str, int]:
    """The go/no-go check of every channel mid-cutover; returns cases raised and resolved."""
    from migration.services.go_no_go import check_cutover_thresholds  # noqa: PLC0415 - seam

    result = check_cutover_thresholds()
    return {"raised": len(result.cases_raised), "resolved": len(result.cases_resolved)}
