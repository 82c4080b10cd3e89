"""Celery wrappers of the exception detectors (beat schedule in oms/celery.py)."""

from celery import shared_task

from ops.services.detectors import run_detectors
from ops.services.search_indexes import flush_pending_lists


@shared_task
def detect_exceptions_task() -> dict[str, int]:
    return run_detectors()


@shared_task
def flush_search_indexes_task() -> dict[str, int]:
    """Merge the order search indexes' pending lists (ops/services/search_indexes.py)."""
    return flush_pending_lists().pages


@shared_task
def refresh_kpi_rollups_task() -> dict[str, int]:
    """The daily KPI rollups of the days changed since the last runs (ops/kpis/rollups.py)."""
    from ops.kpis.rollups import refresh  # noqa: PLC0415 - as run_finance_export_task

    return refresh()


@shared_task
def run_finance_export_task(export_id: int) -> None:
    """A large finance export (ops/finance/exports.py); a queued job only, so a redelivered
    message does nothing."""
    from ops.finance.exports import run_export  # noqa: PLC0415 - avoids a cycle at import

    run_export(export_id=export_id)
