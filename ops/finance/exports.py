"""Finance export jobs: ask (request_export), run (run_export, in the request for small
exports, in Celery above INLINE_ROWS rows), download through a signed link that expires.

The job row (ops.models.FinanceExport) carries the progress the admin shows (rows done of
rows total, updated every few thousand rows by the writer). Running a job twice does nothing
the second time: only a queued job starts. Files live in settings.OMS_EXPORT_DIR.
"""

import logging
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from oms.core.errors import DomainError
from ops.finance import datasets, settlement  # noqa: F401 - settlement registers its dataset
from ops.finance.datasets import Query, get_dataset
from ops.finance.writers import WRITERS
from ops.models import ExportStatus, FinanceExport

logger = logging.getLogger(__name__)

INLINE_ROWS = 10_000
SIGNING_SALT = "oms.finance.export"
MAX_DAYS = 366 * 2


class ExportRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=400)


def export_dir() -> Path:
    path = Path(settings.OMS_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_request(*, kind: str, file_format: str, date_from: date, date_to: date) -> None:
    try:
        get_dataset(kind)
    except LookupError as exc:
        raise ExportRefused("unknown_export", str(exc)) from exc
    if file_format not in WRITERS:
        raise ExportRefused("unknown_format", f"Format {file_format!r}: csv or xlsx.")
    if date_to < date_from:
        raise ExportRefused("bad_range", "The end date is before the start date.")
    if (date_to - date_from).days > MAX_DAYS:
        raise ExportRefused("bad_range", "At most two years per export.")


def export_to_path(*, kind: str, file_format: str, query: Query, path: Path) -> int:
    """Write one dataset to `path` (the command, the jobs); returns the rows written."""
    dataset = get_dataset(kind)
    written = [0]

    def progress(count: int) -> None:
        written[0] = count

    WRITERS[file_format](path, dataset.columns, dataset.rows(query), progress=progress)
    return written[0]


def request_export(
    *,
    kind: str,
    file_format: str,
    date_from: date,
    date_to: date,
    channel: str = "",
    currency: str = "",
    user: Any = None,
) -> FinanceExport:
    check_request(kind=kind, file_format=file_format, date_from=date_from, date_to=date_to)
    query = Query(date_from, date_to, channel, currency)
    estimate = get_dataset(kind).count(query)
    export = FinanceExport.objects.create(
        kind=kind,
        file_format=file_format,
        date_from=date_from,
        date_to=date_to,
        channel_code=channel,
        currency=currency,
        requested_by=user if getattr(user, "pk", None) else None,
        rows_total=estimate,
    )
    if estimate <= INLINE_ROWS:
        run_export(export_id=export.pk)
        export.refresh_from_db()
    else:
        from ops.tasks import run_finance_export_task  # noqa: PLC0415 - tasks import services

        transaction.on_commit(partial(run_finance_export_task.delay, export.pk))
    return export


def run_export(*, export_id: int) -> None:
    with transaction.atomic():
        export = FinanceExport.objects.select_for_update(of=("self",)).get(pk=export_id)
        if export.status != ExportStatus.QUEUED:
            return  # done, running elsewhere, or failed: a redelivered task does nothing
        query = Query(export.date_from, export.date_to, export.channel_code, export.currency)
        export.start(rows_total=get_dataset(export.kind).count(query))
        export.save(update_fields=["status", "rows_total", "updated_at"])
    name = f"{export.kind}-{export.date_from}-{export.date_to}-{export.pk}.{export.file_format}"
    path = export_dir() / name

    def progress(count: int) -> None:
        FinanceExport.objects.filter(pk=export.pk).update(rows_done=count)

    try:
        dataset = get_dataset(export.kind)
        WRITERS[export.file_format](path, dataset.columns, dataset.rows(query), progress=progress)
    except Exception as exc:  # noqa: BLE001 - recorded on the job, shown in the admin
        logger.exception("finance export failed", extra={"export_id": export.pk})
        with transaction.atomic():
            export = FinanceExport.objects.select_for_update(of=("self",)).get(pk=export.pk)
            export.fail(error=f"{type(exc).__name__}: {exc}", at=timezone.now())
            export.save(update_fields=["status", "error", "finished_at", "updated_at"])
        return
    now = timezone.now()
    with transaction.atomic():
        export = FinanceExport.objects.select_for_update(of=("self",)).get(pk=export.pk)
        rows = export.rows_done
        export.finish(
            file_name=name,
            rows=rows,
            at=now,
            expires_at=now + timedelta(hours=settings.OMS_EXPORT_LINK_HOURS),
        )
        export.save(
            update_fields=[
                "status",
                "file_name",
                "rows_done",
                "finished_at",
                "expires_at",
                "updated_at",
            ]
        )


def download_token(export: FinanceExport) -> str:
    return signing.dumps(export.pk, salt=SIGNING_SALT)


def export_for_token(token: str) -> FinanceExport | None:
    """The export a download link names, while the link is valid and the file is there."""
    try:
        pk = signing.loads(
            token, salt=SIGNING_SALT, max_age=timedelta(hours=settings.OMS_EXPORT_LINK_HOURS)
        )
    except signing.BadSignature:
        return None
    export = FinanceExport.objects.filter(pk=pk, status=ExportStatus.DONE).first()
    if export is None or export.expires_at is None or export.expires_at < timezone.now():
        return None
    if not (export_dir() / export.file_name).is_file():
        return None
    return export
