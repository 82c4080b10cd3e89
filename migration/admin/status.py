"""Status reconciliations (dual running): each comparison of oms's order statuses with a legacy
status feed (migration/services/status_reconciliation.py), with the orders that differ. Written
only by the service: view-only here (ops_admin and superusers)."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.decorators import display

from migration.models import StatusReconciliation
from oms.core.admin_actions import ReadOnlyAdmin

SHOWN = 500  # differing orders listed on a comparison's page


@admin.register(StatusReconciliation)
class StatusReconciliationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "reconciled_at",
        "source",
        "compared",
        "matching",
        "mismatched",
        "missing",
        "case_threshold",
    )
    list_filter = ("source",)
    search_fields = ("source", "input_name")
    ordering = ("-reconciled_at", "-id")
    date_hierarchy = "reconciled_at"
    fields = (
        "source",
        "input_name",
        "reconciled_at",
        "figures",
        "differences",
        "absent",
        "read_errors",
    )
    readonly_fields = fields

    @display(description="figures")
    def figures(self, obj: StatusReconciliation) -> SafeString:
        return format_html(
            "{} orders compared; {} match, {} differ (cases open above {}); {} feed orders are "
            "not in oms; {} feed rows refused",
            obj.compared,
            obj.matching,
            obj.mismatched,
            obj.case_threshold,
            obj.missing,
            obj.report.get("refused", 0),
        )

    @display(description="orders whose statuses differ")
    def differences(self, obj: StatusReconciliation) -> SafeString:
        if not obj.mismatches:
            return format_html("<span>{}</span>", "Every compared order agrees.")
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class='num'>{}</td>"
            "</tr>",
            (
                (
                    m["order_number"],
                    m["channel"],
                    m["legacy_id"],
                    m["oms_status"],
                    m["legacy_status"],
                    m["line"],
                )
                for m in obj.mismatches[:SHOWN]
            ),
        )
        return format_html(
            "<table class='oms-table'><thead><tr><th>order</th><th>channel</th><th>legacy id"
            "</th><th>oms status</th><th>legacy status</th><th>feed line</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    @display(description="feed orders not in oms")
    def absent(self, obj: StatusReconciliation) -> str:
        return ", ".join(f"{m['channel']} {m['legacy_id']}" for m in obj.not_in_oms[:SHOWN]) or "–"

    @display(description="rows refused")
    def read_errors(self, obj: StatusReconciliation) -> SafeString:
        errors = obj.report.get("errors") or []
        if not errors:
            return format_html("<span>{}</span>", "None.")
        return format_html_join(
            "",
            "<div>line {}: {} ({}) {}</div>",
            (
                (e.get("line"), e.get("code"), e.get("field"), e.get("value"))
                for e in errors[:SHOWN]
            ),
        )
