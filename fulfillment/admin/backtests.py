"""Backtest reports in the admin: read-only, written only by fulfillment.services.backtest.

The page is the report for the person who approves a rule set: the candidate next to the set
that was active when it ran, metric by metric, each marked better or worse, and how the
shipments would move between nodes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import display

from fulfillment.admin.formatting import percent, period_words
from fulfillment.models import BacktestReport
from oms.core.admin_actions import ReadOnlyAdmin


def _number(digits: int) -> Callable[[float | None], str]:
    def show(value: float | None) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    return show


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    show: Callable[[Any], str]
    better: str | None  # "higher", "lower", or None when neither is better in itself
    difference: Callable[[float], str]
    same_within: float = 0.0  # differences this small read as "same"


def _points(delta: float) -> str:
    return f"{delta * 100:+.1f} pts"


def _signed(digits: int) -> Callable[[float], str]:
    return lambda delta: f"{delta:+,.{digits}f}"


METRICS = (
    Metric("fully_sourced_share", "Fully sourced (share of orders)", percent, "higher", _points),
    Metric(
        "split_shipment_rate",
        "Split-shipment rate (orders shipped in more than one parcel)",
        percent,
        "lower",
        _points,
    ),
    # More shipments can mean fewer splits or more orders filled: neither better nor worse.
    Metric("shipments", "Shipments", _number(0), None, _signed(0)),
    Metric(
        "average_distance_miles", "Average distance (miles)", _number(1), "lower", _signed(1), 0.05
    ),
    Metric("estimated_cost", "Estimated shipping cost", _number(2), "lower", _signed(2), 0.005),
    Metric("backordered_units", "Backordered units", _number(0), "lower", _signed(0)),
    Metric("rejected_orders", "Rejected orders", _number(0), "lower", _signed(0)),
    # Sub-millisecond differences are timing noise, not a property of the rule set.
    Metric("plan_ms_p50", "Routing time p50 (ms)", _number(3), "lower", _signed(3), 0.5),
    Metric("plan_ms_p99", "Routing time p99 (ms)", _number(3), "lower", _signed(3), 0.5),
)


def _verdict(metric: Metric, candidate: Any, baseline: Any) -> str:
    """'better', 'worse', 'same' or '' (not comparable) for the candidate."""
    if metric.better is None or candidate is None or baseline is None:
        return ""
    if abs(candidate - baseline) <= metric.same_within:
        return "same"
    higher = candidate > baseline
    return "better" if higher == (metric.better == "higher") else "worse"


def report_view(report: BacktestReport) -> dict[str, Any]:
    """What the report template shows, in words and formatted numbers."""
    candidate, baseline = report.candidate_metrics, report.baseline_metrics
    rows = []
    for metric in METRICS:
        ours, theirs = candidate.get(metric.key), baseline.get(metric.key)
        comparable = isinstance(ours, int | float) and isinstance(theirs, int | float)
        rows.append(
            {
                "label": metric.label,
                "candidate": metric.show(ours),
                "baseline": metric.show(theirs),
                "difference": (
                    ("0" if ours == theirs else metric.difference(ours - theirs))
                    if comparable
                    else "—"
                ),
                "verdict": _verdict(metric, ours, theirs),
            }
        )
    ours_load = candidate.get("node_load") or {}
    theirs_load = baseline.get("node_load") or {}
    nodes = []
    for code in sorted(set(ours_load) | set(theirs_load)):
        mine, other = ours_load.get(code, 0), theirs_load.get(code, 0)
        nodes.append(
            {
                "code": code,
                "candidate": mine,
                "baseline": other,
                "difference": f"{mine - other:+,d}" if mine != other else "0",
                "change": "more" if mine > other else "fewer" if mine < other else "",
            }
        )
    return {
        "candidate_label": str(report.rule_set),
        "baseline_label": baseline.get("label") or "built-in defaults",
        "metrics": rows,
        "nodes": nodes,
        "better": sum(1 for row in rows if row["verdict"] == "better"),
        "worse": sum(1 for row in rows if row["verdict"] == "worse"),
    }


@admin.register(BacktestReport)
class BacktestReportAdmin(ReadOnlyAdmin):
    list_display = (
        "report_label",
        "rule_set",
        "baseline_label",
        "period",
        "orders_replayed",
        "fully_sourced",
        "created_by",
        "created_at",
    )
    list_filter = (("rule_set", RelatedDropdownFilter),)
    list_filter_submit = True
    search_fields = ("rule_set__key", "rule_set__name")
    search_help_text = "Rule set key or name."
    ordering = ("-created_at", "-id")
    actions = None
    fields = (
        ("rule_set_link", "baseline_label"),
        ("period", "orders_replayed"),
        ("created_by", "created_at", "took"),
    )
    readonly_fields = (
        "rule_set_link",
        "baseline_label",
        "period",
        "orders_replayed",
        "created_by",
        "created_at",
        "took",
    )
    change_form_outer_after_template = "admin/fulfillment/backtestreport/report.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[BacktestReport]:
        return (
            super()
            .get_queryset(request)
            .select_related("rule_set", "rule_set__channel", "baseline", "created_by")
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: BacktestReport | None = None,
    ) -> HttpResponse:
        context["backtest"] = report_view(obj) if obj is not None else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- columns -------------------------------------------------------------------------

    @display(description="Report", ordering="id")
    def report_label(self, obj: BacktestReport) -> str:
        return f"Backtest #{obj.pk}"

    @display(description="Rule set")
    def rule_set_link(self, obj: BacktestReport) -> SafeString:
        url = reverse(
            f"{self.admin_site.name}:fulfillment_routingruleset_change", args=[obj.rule_set_id]
        )
        return format_html('<a href="{}" class="text-primary-600">{}</a>', url, obj.rule_set)

    @display(description="Compared with (active set)")
    def baseline_label(self, obj: BacktestReport) -> str:
        return obj.baseline_metrics.get("label") or "built-in defaults"

    @display(description="Period", ordering="period_from")
    def period(self, obj: BacktestReport) -> str:
        return period_words(obj.period_from, obj.period_to)

    @display(description="Orders replayed", ordering="orders_considered")
    def orders_replayed(self, obj: BacktestReport) -> int:
        return obj.orders_considered

    @display(description="Took")
    def took(self, obj: BacktestReport) -> str:
        return (
            f"{obj.elapsed_ms / 1000:.1f} s" if obj.elapsed_ms >= 1000 else f"{obj.elapsed_ms} ms"
        )

    @display(description="Fully sourced (candidate vs active)")
    def fully_sourced(self, obj: BacktestReport) -> str:
        return (
            f"{percent(obj.candidate_metrics.get('fully_sourced_share'))} vs "
            f"{percent(obj.baseline_metrics.get('fully_sourced_share'))}"
        )
