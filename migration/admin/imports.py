"""Import jobs: the list with progress, each job's report, and the two actions that matter:
accept a dry run that has errors, and start the real run from a clean or accepted dry run (a
Celery job)."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.decorators import action

from migration.models import ImportJob
from migration.services.jobs import accept_dry_run, start_real_run
from oms.core.actors import Actor
from oms.core.errors import DomainError

SUMMARY_ROWS = [
    ("input", "input file"),
    ("rows_read", "rows read"),
    ("records", "records"),
    ("created", "created (or would be)"),
    ("updated", "updated (or would be)"),
    ("unchanged", "unchanged (imported before)"),
    ("filtered", "filtered out"),
    ("refused", "refused"),
    ("duplicates_in_file", "duplicates in the file"),
    ("duplicates_in_db", "duplicates against the database"),
    ("money", "money"),
    ("error_counts", "errors by code"),
    ("unmapped", "unmapped values"),
    ("notes", "notes"),
]


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return str(value)


@admin.register(ImportJob)
class ImportJobAdmin(ModelAdmin):
    list_display = [
        "id",
        "mapping_name",
        "kind",
        "run",
        "status",
        "progress",
        "errors",
        "accepted_by",
        "created_at",
    ]
    list_filter = ["status", "dry_run", "kind", "source"]
    search_fields = ["mapping_name", "input_name"]
    actions = ["accept", "start_real_run"]
    readonly_fields = [
        "mapping_name", "input_name", "status", "dry_run", "dry_run_of", "created_by",
        "started_at", "finished_at", "accepted_by", "accepted_at", "failure", "summary",
        "report_errors", "mapping_text",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": [("mapping_name", "input_name"), ("status", "dry_run", "dry_run_of"),
                           ("created_by", "started_at", "finished_at"),
                           ("accepted_by", "accepted_at"), "failure"]}),
        ("Report", {"fields": ["summary", "report_errors"]}),
        ("Mapping as run", {"fields": ["mapping_text"], "classes": ["collapse"]}),
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="run")
    def run(self, job: ImportJob) -> str:
        if job.dry_run:
            return "dry run"
        return f"real run (from dry run #{job.dry_run_of_id})" if job.dry_run_of_id else "real run"

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        return f"{job.records_done} records / {job.rows_read} rows"

    @admin.display(description="report")
    def summary(self, job: ImportJob) -> str:
        report = job.report or {}
        if not report:
            return "No report yet: the job has not finished."
        rows = format_html_join(
            "",
            "<tr><th class='pr-4 py-1 text-left font-semibold'>{}</th>"
            "<td class='py-1'>{}</td></tr>",
            (
                (label, _plain(report.get(key)))
                for key, label in SUMMARY_ROWS
                if report.get(key) not in (None, {}, [])
            ),
        )
        what = "Dry run: nothing was written" if job.dry_run else "Real run"
        return format_html("<p><strong>{}</strong></p><table>{}</table>", what, rows)

    @admin.display(description="errors (the first 100, with their source line)")
    def report_errors(self, job: ImportJob) -> str:
        report = job.report or {}
        errors = report.get("errors", [])[:100] + [
            {**w, "code": f"warning: {w['code']}"} for w in report.get("warnings", [])[:20]
        ]
        if not errors:
            return "None."
        rows = format_html_join(
            "",
            "<tr class='border-b'><td class='px-2 py-1'>{}</td><td class='px-2 py-1'>{}</td>"
            "<td class='px-2 py-1 font-semibold'>{}</td><td class='px-2 py-1'>{}</td>"
            "<td class='px-2 py-1'>{}</td><td class='px-2 py-1'>{}</td></tr>",
            (
                (
                    e.get("line", ""),
                    e.get("source_id", ""),
                    e["code"],
                    e.get("field", ""),
                    e.get("value", ""),
                    e.get("detail", ""),
                )
                for e in errors
            ),
        )
        return format_html(
            "<table><tr class='border-b'><th class='px-2 py-1 text-left'>line</th>"
            "<th class='px-2 py-1 text-left'>source id</th>"
            "<th class='px-2 py-1 text-left'>code</th>"
            "<th class='px-2 py-1 text-left'>field</th><th class='px-2 py-1 text-left'>value</th>"
            "<th class='px-2 py-1 text-left'>detail</th></tr>{}</table>",
            rows,
        )

    @action(description="Accept the dry run (with its errors)")
    def accept(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        for job in queryset:
            try:
                accept_dry_run(job_id=job.pk, actor=Actor.for_user(request.user))
            except DomainError as exc:
                self.message_user(request, f"#{job.pk}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"#{job.pk} accepted")

    @action(description="Start the real run from this dry run")
    def start_real_run(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        for job in queryset:
            try:
                real = start_real_run(dry_run_job_id=job.pk, actor=Actor.for_user(request.user))
            except DomainError as exc:
                self.message_user(request, f"#{job.pk}: {exc.detail}", messages.ERROR)
                continue
            self.message_user(request, f"real run #{real.pk} started from dry run #{job.pk}")
