"""Import jobs: the list with progress, each job's report, and the two actions that matter:
accept a dry run that has errors, and start the real run from a clean or accepted dry run (a
Celery job)."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action

from migration.models import ImportJob
from migration.services.jobs import accept_dry_run, start_real_run
from oms.core.actors import Actor
from oms.core.errors import DomainError


@admin.register(ImportJob)
class ImportJobAdmin(ModelAdmin):
    list_display = [
        "id",
        "mapping_name",
        "kind",
        "dry_run",
        "status",
        "progress",
        "errors",
        "accepted_by",
        "created_at",
    ]
    list_filter = ["status", "dry_run", "kind", "source"]
    search_fields = ["mapping_name", "input_name"]
    actions = ["accept", "start_real_run"]
    readonly_fields = ["summary", "report_errors", "mapping_text"]
    fields = ["summary", "report_errors", "mapping_text"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        return f"{job.records_done} records / {job.rows_read} rows"

    @admin.display(description="report")
    def summary(self, job: ImportJob) -> str:
        report = job.report or {}
        keys = [
            "input",
            "rows_read",
            "records",
            "created",
            "updated",
            "unchanged",
            "filtered",
            "refused",
            "duplicates_in_file",
            "duplicates_in_db",
            "money",
            "error_counts",
            "unmapped",
            "notes",
        ]
        rows = "".join(
            format_html(
                "<tr><th style='text-align:left;padding-right:1em'>{}</th><td>{}</td></tr>",
                key.replace("_", " "),
                json.dumps(report.get(key), ensure_ascii=False),
            )
            for key in keys
            if key in report
        )
        what = "Dry run (nothing written)" if job.dry_run else "Real run"
        return format_html("<p>{} · {}</p><table>{}</table>", what, job.status, format_html(rows))  # noqa: S308

    @admin.display(description="errors (first 500, with source line)")
    def report_errors(self, job: ImportJob) -> str:
        errors = (job.report or {}).get("errors", [])[:100]
        rows = "".join(
            format_html(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.get("line", ""),
                e.get("source_id", ""),
                e["code"],
                e.get("field", ""),
                e.get("detail", ""),
            )
            for e in errors
        )
        return format_html(
            "<table><tr><th>line</th><th>source id</th><th>code</th><th>field</th>"
            "<th>detail</th></tr>{}</table>",
            format_html(rows),  # noqa: S308
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
