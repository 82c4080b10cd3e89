"""Import jobs: the list with progress, each job's report, and the two actions that matter:
accept a dry run that has errors, and start the real run from a clean or accepted dry run (a
Celery job)."""

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.decorators import action

from migration.mapping.schema import MappingError, load_mapping
from migration.models import ImportJob, ReconciliationSource
from migration.services.jobs import (
    MAPPINGS_DIR,
    accept_dry_run,
    resolve_mapping_path,
    start_dry_run,
    start_real_run,
)
from migration.services.reconciliation import (
    RECONCILED_KINDS,
    NotAStockMapping,
    reconcile_source,
)
from migration.services.status_reconciliation import StatusReconciliationResult
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


def shipped_mappings() -> list[tuple[str, str]]:
    return [(p.stem, p.stem) for p in sorted(MAPPINGS_DIR.glob("*.yaml"))]


INPUT_STYLE = {
    "style": "border:1px solid #d1d5db;border-radius:6px;padding:6px 10px;max-width:680px"
}


class NewDryRunForm(forms.Form):
    mapping = forms.ChoiceField(
        choices=shipped_mappings,
        help_text="A shipped mapping (migration/mappings/).",
        widget=forms.Select(attrs=INPUT_STYLE),
    )
    mapping_path = forms.CharField(
        required=False,
        max_length=300,
        help_text="Or a mapping file on the server (a path); it wins over the list.",
        widget=forms.TextInput(attrs={**INPUT_STYLE, "placeholder": "path/to/mapping.yaml"}),
    )
    input_path = forms.CharField(
        max_length=300,
        help_text="The legacy export on the server (relative to the checkout, or absolute).",
        widget=forms.TextInput(attrs={**INPUT_STYLE, "placeholder": "path/to/export.csv"}),
    )
    update_changed = forms.BooleanField(
        required=False,
        help_text="A real run started from this dry run updates changed source rows.",
        widget=forms.CheckboxInput(attrs={"style": "align-self:flex-start"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("mapping_path") or data.get("mapping") or ""
        mapping = resolve_mapping_path(name)
        if not mapping.is_file():
            self.add_error("mapping_path", f"No mapping file {name}.")
        else:
            try:
                load_mapping(mapping)
            except MappingError as exc:
                self.add_error("mapping_path" if data.get("mapping_path") else "mapping", str(exc))
        data["mapping_file"] = mapping
        if data.get("input_path") and not Path(data["input_path"]).is_file():
            self.add_error("input_path", f"No input file {data['input_path']}.")
        return data


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
    change_list_template = "admin/migration/importjob/change_list.html"
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

    def can_start_dry_run(self, request: HttpRequest) -> bool:
        """Jobs are never added by hand, but a dry run may be started (superusers)."""
        return bool(request.user.has_perm("migration.add_importjob"))

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "new-dry-run/",
                self.admin_site.admin_view(self.new_dry_run_view),
                name="migration_importjob_new_dry_run",
            )
        ]
        return own + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "can_start_dry_run": self.can_start_dry_run(request)}
        return super().changelist_view(request, context)

    def new_dry_run_view(self, request: HttpRequest) -> HttpResponse:
        """Start a dry run (a Celery job with progress); the report opens on the job's page."""
        if not self.can_start_dry_run(request):
            raise PermissionDenied
        form = NewDryRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                job = start_dry_run(
                    mapping_path=data["mapping_file"],
                    input_path=Path(data["input_path"]),
                    actor=Actor.for_user(request.user),
                    update_changed=data["update_changed"],
                )
            except (DomainError, MappingError) as exc:
                form.add_error(None, getattr(exc, "detail", str(exc)))
            else:
                self.message_user(request, f"dry run #{job.pk} of {job.mapping_name} started")
                return HttpResponseRedirect(reverse("admin:migration_importjob_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "New dry run",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/migration/importjob/new_dry_run.html", context)

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


class ReconciliationSourceForm(forms.ModelForm):
    class Meta:
        model = ReconciliationSource
        fields = ["name", "mapping_name", "input_path", "is_active"]

    def clean_mapping_name(self) -> str:
        name = self.cleaned_data["mapping_name"]
        path = resolve_mapping_path(name)
        if not path.exists():
            raise forms.ValidationError(f"No mapping {name!r} (a path, or a shipped name).")
        try:
            mapping = load_mapping(path)
        except MappingError as exc:
            raise forms.ValidationError(str(exc)) from None
        if mapping.kind not in RECONCILED_KINDS:
            raise forms.ValidationError(
                f"{mapping.name} maps {mapping.kind}; a reconciliation reads stock counts or "
                "order statuses."
            )
        return str(name)


@admin.register(ReconciliationSource)
class ReconciliationSourceAdmin(ModelAdmin):
    """Where the hourly reconciliation reads node counts (migration/services/reconciliation.py)
    or a legacy order status feed (status_reconciliation.py); the results are under Inventory ›
    Inventory reconciliations and Migration › Status reconciliations."""

    form = ReconciliationSourceForm
    list_display = ["name", "mapping_name", "input_path", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "mapping_name", "input_path"]
    actions = ["reconcile_now"]

    @action(description="Reconcile now")
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet[ReconciliationSource]) -> None:
        for source in queryset:
            try:
                result = reconcile_source(
                    mapping_name=source.mapping_name,
                    input_path=Path(source.input_path),
                    actor=Actor.for_user(request.user),
                    source=source.name,
                )
            except (MappingError, NotAStockMapping, OSError) as exc:
                self.message_user(request, f"{source.name}: {exc}", messages.ERROR)
                continue
            if isinstance(result, StatusReconciliationResult):
                status_run = result.reconciliation
                self.message_user(
                    request,
                    f"{source.name}: status reconciliation #{status_run.pk}, "
                    f"{status_run.compared} orders compared, {status_run.mismatched} differ, "
                    f"{status_run.missing} not in oms; cases raised {len(result.cases_raised)}, "
                    f"resolved {len(result.cases_resolved)}",
                )
                continue
            run = result.reconciliation
            self.message_user(
                request,
                f"{source.name}: reconciliation #{run.pk}, {run.pairs} pairs, accuracy "
                f"{run.accuracy or 0:.1f}%, {run.over_threshold} over threshold; cases raised "
                f"{len(result.cases_raised)}, resolved {len(result.cases_resolved)}",
            )
