"""The finance area of the console: ask for an export (dataset, date range, channel, currency,
CSV or XLSX), follow its progress, download it through a link that expires; and the daily
settlement on screen. Everything goes through ops/finance (the same code as export_finance)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import display

from oms.core.admin_actions import adopt_created
from oms.core.errors import DomainError
from ops.admin.order_page import short_time
from ops.finance.datasets import DATASETS, Query
from ops.finance.exports import (
    download_token,
    export_dir,
    export_for_token,
    request_export,
)
from ops.finance.settlement import settlement_rows
from ops.finance.writers import CONTENT_TYPES
from ops.models import ExportStatus, FinanceExport
from orders.models import Channel

SETTLEMENT_HEADINGS = (
    "Day",
    "Channel",
    "Currency",
    "Captures",
    "Captured",
    "Refunds",
    "Refunded",
    "Net",
    "Shipped, not captured",
    "(amount)",
    "Captured, not shipped",
    "(amount)",
)
STATUS_COLOURS = {
    ExportStatus.QUEUED: "warning",
    ExportStatus.RUNNING: "info",
    ExportStatus.DONE: "success",
    ExportStatus.FAILED: "danger",
}


def _month_start() -> date:
    today = timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _month_end() -> date:
    return timezone.localdate().replace(day=1) - timedelta(days=1)


def _channel_choices() -> list[tuple[str, str]]:
    codes = Channel.objects.order_by("code").values_list("code", "name")
    return [("", "All channels"), *((code, f"{name} ({code})") for code, name in codes)]


class ExportForm(forms.ModelForm):
    kind = forms.ChoiceField(label="What", choices=())
    file_format = forms.ChoiceField(
        label="Format", choices=[("xlsx", "XLSX (Excel)"), ("csv", "CSV")], initial="xlsx"
    )
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    channel_code = forms.ChoiceField(label="Channel", choices=(), required=False)
    currency = forms.CharField(
        label="Currency", max_length=3, required=False, help_text="e.g. USD; empty for all."
    )

    class Meta:
        model = FinanceExport
        fields = ("kind", "file_format", "date_from", "date_to", "channel_code", "currency")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(d.name, d.title) for d in DATASETS.values()]
        self.fields["kind"].help_text = " ".join(
            f"{d.title}: {d.description}" for d in DATASETS.values()
        )
        self.fields["channel_code"].choices = _channel_choices()
        self.fields["date_from"].initial = _month_start()
        self.fields["date_to"].initial = _month_end()

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def _currency_totals(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The whole range per currency: captures, captured, refunds, refunded and net (what the
    payment transactions export's settled_amount adds up to for that currency)."""
    totals: dict[str, list[Any]] = {}
    for row in rows:
        figures = totals.setdefault(row[2], [0, Decimal(0), 0, Decimal(0), Decimal(0)])
        for index, value in enumerate(row[3:8]):
            figures[index] += value or 0
    return [(currency, *figures) for currency, figures in sorted(totals.items())]


class SettlementForm(forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(choices=(), required=False)
    currency = forms.CharField(max_length=3, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = _channel_choices()


@admin.register(FinanceExport)
class FinanceExportAdmin(ModelAdmin):
    form = ExportForm
    list_display = (
        "kind_title",
        "range",
        "scope",
        "file_format",
        "status_label",
        "progress_display",
        "requested_by",
        "requested",
        "download",
    )
    list_display_links = None
    list_filter = ("kind", "status")
    ordering = ("-created_at", "-id")
    actions = None
    change_list_template = "admin/ops/financeexport/change_list.html"

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "download/<str:token>/",
                self.admin_site.admin_view(self.download_view),
                name="ops_financeexport_download",
            ),
            path(
                "settlement/",
                self.admin_site.admin_view(self.settlement_view),
                name="ops_financeexport_settlement",
            ),
        ]
        return own + super().get_urls()

    # --- permissions: exports are asked for, never edited or deleted ------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FinanceExport, form: Any, change: bool) -> None:
        try:
            created = request_export(
                kind=obj.kind,
                file_format=obj.file_format,
                date_from=obj.date_from,
                date_to=obj.date_to,
                channel=obj.channel_code,
                currency=obj.currency,
                user=request.user,
            )
        except DomainError as exc:  # checked by the form already; a race at most
            messages.error(request, exc.detail)
            raise
        adopt_created(obj, created)

    def response_add(self, request: HttpRequest, obj: FinanceExport, *args: Any) -> HttpResponse:
        obj.refresh_from_db()
        if obj.status == ExportStatus.DONE:
            messages.success(request, f"{obj}: {obj.rows_done} rows, ready to download.")
        else:
            messages.info(
                request,
                f"{obj}: {obj.rows_total} rows, running in the background. This page shows "
                "its progress; reload it to follow.",
            )
        return self._redirect_to_list()

    def _redirect_to_list(self) -> HttpResponse:
        from django.http import HttpResponseRedirect  # noqa: PLC0415

        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:ops_financeexport_changelist"))

    # --- columns -------------------------------------------------------------------------

    @display(description="Export")
    def kind_title(self, obj: FinanceExport) -> str:
        dataset = DATASETS.get(obj.kind)
        return dataset.title if dataset else obj.kind

    @display(description="Dates")
    def range(self, obj: FinanceExport) -> str:
        return f"{obj.date_from:%b %-d, %Y} – {obj.date_to:%b %-d, %Y}"

    @display(description="Scope")
    def scope(self, obj: FinanceExport) -> str:
        return " · ".join(p for p in (obj.channel_code, obj.currency) if p) or "all"

    @display(description="Status", label=STATUS_COLOURS)
    def status_label(self, obj: FinanceExport) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Progress")
    def progress_display(self, obj: FinanceExport) -> str:
        if obj.status == ExportStatus.FAILED:
            return obj.error
        return f"{obj.progress} % ({obj.rows_done:,} of {obj.rows_total:,} rows)"

    @display(description="Requested", ordering="created_at")
    def requested(self, obj: FinanceExport) -> str:
        return short_time(obj.created_at)

    @display(description="Download")
    def download(self, obj: FinanceExport) -> str:
        if obj.status != ExportStatus.DONE or not obj.expires_at:
            return "—"
        if obj.expires_at < timezone.now():
            return "Link expired"
        url = reverse(
            f"{self.admin_site.name}:ops_financeexport_download", args=[download_token(obj)]
        )
        return format_html(
            '<a class="text-primary-600" href="{}">Download {}</a> '
            '<span class="text-base-500">until {}</span>',
            url,
            obj.file_format.upper(),
            short_time(obj.expires_at),
        )

    # --- views ---------------------------------------------------------------------------

    def download_view(self, request: HttpRequest, token: str) -> FileResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied  # noqa: PLC0415

            raise PermissionDenied
        export = export_for_token(token)
        if export is None:
            raise Http404("This download link has expired or does not exist.")
        handle = (export_dir() / export.file_name).open("rb")
        return FileResponse(
            handle,
            as_attachment=True,
            filename=export.file_name,
            content_type=CONTENT_TYPES[export.file_format],
        )

    def settlement_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied  # noqa: PLC0415

            raise PermissionDenied
        form = SettlementForm(request.GET or {"date_from": _month_start(), "date_to": _month_end()})
        rows: list[tuple[Any, ...]] = []
        if form.is_valid():
            data = form.cleaned_data
            query = Query(
                data["date_from"],
                data["date_to"],
                data.get("channel") or "",
                (data.get("currency") or "").upper(),
            )
            rows = list(settlement_rows(query))
        context = {
            "totals": _currency_totals(rows),
            **self.admin_site.each_context(request),
            "title": "Daily settlement",
            "opts": self.opts,
            "form": form,
            "columns": SETTLEMENT_HEADINGS,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/ops/financeexport/settlement.html", context)
