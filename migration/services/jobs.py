"""Import jobs: create one (a dry run, or a real run from a clean or accepted dry run), run it
(the command runs it at once, the admin through a Celery task), accept a dry run with errors."""

from functools import partial
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from migration.events import IMPORT_ACCEPTED, IMPORT_FINISHED, stream_for_job
from migration.mapping.schema import Mapping, MappingError, Problem, load_mapping, parse_mapping
from migration.models import ImportJob, JobStatus
from migration.services.report import Report
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.services import record_event

# Kinds a mapping may read that no import writes or checks: they are compared with oms.
COMPARED_ONLY_KINDS = ("order_statuses",)
MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"


class DryRunNotAccepted(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="dry_run_not_accepted", detail=detail, http_status=409)


def resolve_mapping_path(name: str) -> Path:
    """A path, or the name of a shipped mapping (`shopify_orders_csv` or `…csv.yaml`)."""
    path = Path(name)
    if path.exists():
        return path
    shipped = MAPPINGS_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    return shipped if shipped.exists() else path


def create_job(
    *,
    mapping_path: Path,
    input_path: Path,
    dry_run: bool,
    actor: Actor,
    update_changed: bool = False,
) -> ImportJob:
    """Raises MappingError (with lines) for a bad mapping; nothing is created then."""
    mapping = load_mapping(mapping_path)
    if mapping.kind in COMPARED_ONLY_KINDS:
        raise MappingError(
            str(mapping_path),
            [
                Problem(
                    "kind",
                    None,
                    f"{mapping.kind} are compared with oms by reconcile_inventory, not imported",
                )
            ],
        )
    return ImportJob.objects.create(
        mapping_name=mapping.name,
        mapping_text=mapping_path.read_text(encoding="utf-8"),
        source=mapping.source,
        kind=mapping.kind,
        input_name=str(input_path),
        dry_run=dry_run,
        update_changed=update_changed,
        created_by=actor.label,
    )


class InputNotFound(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="input_not_found", detail=detail, http_status=400)


def start_dry_run(
    *, mapping_path: Path, input_path: Path, actor: Actor, update_changed: bool = False
) -> ImportJob:
    """A dry run started from the admin: created pending and run as a Celery job after commit
    (progress on the job as it reads, like a real run). Raises MappingError for a bad mapping and
    InputNotFound for an input that is not a readable file; nothing is created then."""
    if not input_path.is_file():
        raise InputNotFound(f"no input file {input_path}")
    with transaction.atomic():
        job = create_job(
            mapping_path=mapping_path,
            input_path=input_path,
            dry_run=True,
            actor=actor,
            update_changed=update_changed,
        )
        schedule_job(job.pk, actor.label)
    return job


def start_real_run(*, dry_run_job_id: int, actor: Actor) -> ImportJob:
    """A real run of the same mapping text and input as a finished dry run that is clean (no
    errors) or was accepted by a person; runs as a Celery job after commit."""
    with transaction.atomic():
        dry = ImportJob.objects.select_for_update(of=("self",)).get(pk=dry_run_job_id)
        if not dry.dry_run or dry.status != JobStatus.DONE:
            raise DryRunNotAccepted("only a finished dry run can start a real run")
        if dry.errors and not dry.accepted_at:
            raise DryRunNotAccepted(f"the dry run has {dry.errors} errors and was not accepted")
        real = ImportJob.objects.create(
            mapping_name=dry.mapping_name,
            mapping_text=dry.mapping_text,
            source=dry.source,
            kind=dry.kind,
            input_name=dry.input_name,
            dry_run=False,
            update_changed=dry.update_changed,
            dry_run_of=dry,
            created_by=actor.label,
        )
        schedule_job(real.pk, actor.label)
    return real


def schedule_job(job_id: int, actor_label: str) -> None:
    """After commit, run the job in a Celery worker (the admin's way; the command runs it now)."""
    # Seam: the task module imports this one, so it is imported where it is used.
    from migration.tasks import run_import_job_task  # noqa: PLC0415

    transaction.on_commit(partial(run_import_job_task.delay, job_id, actor_label))


def accept_dry_run(*, job_id: int, actor: Actor) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).get(pk=job_id)
        if not job.dry_run or job.status != JobStatus.DONE:
            raise DryRunNotAccepted("only a finished dry run can be accepted")
        if job.accepted_at is None:
            job.accepted_at = timezone.now()
            job.accepted_by = actor.label
            job.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
            record_event(
                stream=stream_for_job(job.pk),
                type=IMPORT_ACCEPTED,
                actor=actor,
                payload={
                    "job": job.pk,
                    "errors": job.errors,
                    "error_counts": job.report.get("error_counts", {}),
                },
            )
    return job


def execute_job(*, job_id: int, actor: Actor) -> Report | None:
    """Run a pending job; None when it was not pending (a repeated task does nothing)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).get(pk=job_id)
        if job.status != JobStatus.PENDING:
            return None
        job.start(at=timezone.now())
        job.save(update_fields=["status", "started_at", "updated_at"])
    mapping: Mapping = parse_mapping(job.mapping_text, file=job.mapping_name)

    def progress(report: Report) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            rows_read=report.rows_read, records_done=report.records, errors=report.error_total
        )

    try:
        report = run_import(
            mapping=mapping,
            input_path=Path(job.input_name),
            dry_run=job.dry_run,
            actor=actor,
            update_changed=job.update_changed,
            job=job,
            progress=progress,
        )
    except Exception as exc:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update(of=("self",)).get(pk=job_id)
            job.fail(at=timezone.now(), reason=f"{type(exc).__name__}: {exc}")
            job.save(update_fields=["status", "finished_at", "failure", "updated_at"])
        raise
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).get(pk=job_id)
        job.finish(at=timezone.now())
        job.report = report.as_dict()
        job.rows_read = report.rows_read
        job.records_done = report.records
        job.errors = report.error_total
        job.save()
        record_event(
            stream=stream_for_job(job.pk),
            type=IMPORT_FINISHED,
            actor=actor,
            payload={
                "job": job.pk,
                "mapping": job.mapping_name,
                "dry_run": job.dry_run,
                "records": report.records,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "refused": report.refused,
                "error_counts": dict(report.error_counts),
            },
        )
    return report
