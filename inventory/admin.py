"""Products, nodes and stock in the admin.

Products and nodes are master data, edited here with their history kept (simple_history: the
"History" button shows who changed what). Stock levels are read-only: counts arrive from the
nodes and reservations are made by orchestration, so a hand edit here would desynchronise them.
The ledger and reservations are read-only records; oversells are closed with an action that
calls `resolve_oversell()`. Feed messages are in the inbound message log (Integrations →
Inbound messages, kinds `inventory.snapshot` / `inventory.adjustment`).
"""

import json
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display

from inventory.models import (
    InventoryMovement,
    InventoryReconciliation,
    Node,
    Oversell,
    Product,
    Reservation,
    StockLevel,
    normalize_upc,
)
from inventory.selectors import (
    movements_for_staff,
    node_variance_series,
    oversells_for_staff,
    recent_movements,
    reservations_for_staff,
    stock_levels_for_staff,
)
from inventory.services.oversells import resolve_oversell
from oms.core.actors import Actor
from oms.core.admin_actions import HistoryModelAdmin, ReadOnlyAdmin, plural, run_service_for_each
from oms.core.admin_forms import HumanConstraintForm, TimeZoneField

RECENT_MOVEMENTS = 50


@admin.register(Product)
class ProductAdmin(HistoryModelAdmin):
    form = HumanConstraintForm
    list_display = ("sku", "name", "upc", "is_active", "weight_grams", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("sku", "name", "=upc")
    ordering = ("sku",)
    fields = ("sku", "name", "upc", "is_active", "weight_grams", ("created_at", "updated_at"))
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return False  # order lines and stock point at it: deactivate instead

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        """A barcode finds its product in any of its forms (UPC-A, EAN-13, GTIN-14, spaced)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if code := normalize_upc(search_term):
            results = results | queryset.filter(upc=code)
        return results, may_have_duplicates


class NodeForm(HumanConstraintForm):
    timezone = TimeZoneField()


@admin.register(Node)
class NodeAdmin(HistoryModelAdmin):
    form = NodeForm
    list_display = (
        "code",
        "name",
        "kind",
        "city",
        "region",
        "capability_list",
        "daily_capacity",
        "priority",
        "is_active",
    )
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        "is_active",
        "can_pickup",
        "can_ship_from_store",
        "fulfillment_region",
    )
    list_filter_submit = True
    search_fields = ("code", "name", "city", "postal_code")
    ordering = ("code",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        ("Identity", {"fields": (("code", "name"), ("kind", "is_active"))}),
        (
            "Address and coordinates",
            {
                "fields": (
                    ("address_line1", "address_line2"),
                    ("city", "region", "postal_code", "country"),
                    ("latitude", "longitude", "timezone"),
                )
            },
        ),
        (
            "Capabilities",
            {
                "fields": (
                    "can_ship",
                    "can_pickup",
                    "can_curbside",
                    "can_ship_from_store",
                    "can_accept_returns",
                )
            },
        ),
        (
            "Capacity and routing",
            {"fields": (("daily_capacity", "priority", "fulfillment_region"),)},
        ),
        ("Record", {"fields": (("created_at", "updated_at"),)}),
    )

    @display(description="Capabilities")
    def capability_list(self, obj: Node) -> str:
        return ", ".join(obj.capabilities) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Node | None = None) -> bool:
        return False  # stock and orders point at it: deactivate instead


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = (
        "node",
        "product",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "last_reported_at",
    )
    list_filter = (
        ("node__kind", ChoicesDropdownFilter),
        ("node", RelatedDropdownFilter),
    )
    list_filter_submit = True
    search_fields = ("product__sku",)
    search_help_text = "SKU."
    ordering = ("node__code", "product__sku")
    actions = None
    fields = (
        ("node", "product"),
        ("on_hand", "reserved", "safety_stock", "available"),
        ("last_reported_at", "updated_at"),
        "recent_movements",
    )
    readonly_fields = (
        "node",
        "product",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "last_reported_at",
        "updated_at",
        "recent_movements",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        return stock_levels_for_staff()

    @display(description=f"Ledger (last {RECENT_MOVEMENTS} movements)")
    def recent_movements(self, obj: StockLevel) -> SafeString:
        movements = recent_movements(obj, limit=RECENT_MOVEMENTS)
        if not movements:
            return format_html("<p>{}</p>", "No movements.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                    m.get_reason_display(),
                    f"{m.delta_on_hand:+d}",
                    f"{m.delta_reserved:+d}",
                    f"{m.reference_type} {m.reference_id}".strip(),
                    m.note,
                    m.actor_label,
                )
                for m in movements
            ),
        )
        return format_html(
            '<table class="w-full"><thead><tr><th>When</th><th>Reason</th><th>On hand</th>'
            "<th>Reserved</th><th>Reference</th><th>Note</th><th>By</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


@admin.register(InventoryMovement)
class InventoryMovementAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "occurred_at",
        "node",
        "product",
        "reason",
        "delta_on_hand",
        "delta_reserved",
        "reference_type",
        "reference_id",
        "source_system",
        "actor_label",
    )
    list_filter = (
        ("node", RelatedDropdownFilter),
        ("reason", ChoicesDropdownFilter),
    )
    list_filter_submit = True
    search_fields = ("product__sku", "reference_id")
    search_help_text = "SKU or reference (order number, feed message id)."
    ordering = ("-id",)
    actions = None
    show_full_result_count = False  # the ledger grows without bound: skip the COUNT(*)

    def get_queryset(self, request: HttpRequest) -> QuerySet[InventoryMovement]:
        return movements_for_staff()


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "node",
        "product",
        "quantity",
        "status",
        "reference_id",
        "order_line",
        "created_at",
        "released_at",
        "consumed_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), ("node", RelatedDropdownFilter))
    list_filter_submit = True
    search_fields = ("product__sku", "reference_id")
    search_help_text = "SKU or order number."
    ordering = ("-id",)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reservation]:
        return reservations_for_staff()


@admin.register(Oversell)
class OversellAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "detected_at",
        "node",
        "product",
        "on_hand",
        "reserved",
        "shortfall",
        "status",
        "resolved_by",
        "resolved_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), ("node", RelatedDropdownFilter))
    list_filter_submit = True
    search_fields = ("product__sku",)
    search_help_text = "SKU."
    ordering = ("-detected_at", "-id")
    actions = ("resolve_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Oversell]:
        return oversells_for_staff()

    def has_resolve_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("inventory.change_oversell")

    @action(description="Mark selected oversells resolved", permissions=["resolve"])
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[Oversell]) -> None:
        actor = Actor.for_user(request.user)
        run_service_for_each(
            request,
            queryset,
            lambda oversell: resolve_oversell(
                oversell_id=oversell.pk, actor=actor, note="resolved in the admin"
            ),
            success_message=lambda n: f"{plural(n, 'oversell')} resolved.",
        )


CHART_DAYS = 30
CHART_COLORS = ["#2563eb", "#16a34a", "#f59e0b", "#db2777", "#7c3aed", "#0891b2", "#dc2626"]


def variance_chart(days: int = CHART_DAYS) -> dict[str, str]:
    """Units off per node per reconciliation over the last `days` (Chart.js line data)."""
    rows = list(node_variance_series(timezone.now() - timedelta(days=days)))
    times = sorted({row.reconciled_at for row in rows})
    labels = [t.strftime("%b %d %H:%M") for t in times]
    by_node: dict[str, dict[Any, int]] = {}
    for row in rows:
        by_node.setdefault(row.node.code, {})[row.reconciled_at] = row.abs_units
    data = {
        "labels": labels,
        "datasets": [
            {
                "label": code,
                "data": [units.get(t) for t in times],
                "borderColor": CHART_COLORS[i % len(CHART_COLORS)],
                "backgroundColor": CHART_COLORS[i % len(CHART_COLORS)],
                "spanGaps": True,
            }
            for i, (code, units) in enumerate(sorted(by_node.items()))
        ],
    }
    options = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": True, "position": "top", "align": "end"}},
        "scales": {
            "x": {"grid": {"display": False}},
            "y": {"beginAtZero": True, "title": {"display": True, "text": "units off"}},
        },
    }
    return {"data": json.dumps(data), "options": json.dumps(options), "empty": not rows}


@admin.register(InventoryReconciliation)
class InventoryReconciliationAdmin(ReadOnlyAdmin):
    """Reconciliations (migration's reconcile_inventory): the variance-by-node chart over the
    list, and each run's variance report per node and SKU."""

    list_display = (
        "id",
        "reconciled_at",
        "source",
        "pairs",
        "accuracy_display",
        "variance_pairs",
        "over_threshold",
        "units_over",
        "units_under",
        "value_display",
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
        "variance_report",
        "read_errors",
    )
    readonly_fields = fields

    @display(description="accuracy")
    def accuracy_display(self, obj: InventoryReconciliation) -> str:
        return "–" if obj.accuracy is None else f"{obj.accuracy:.1f}%"

    @display(description="value off")
    def value_display(self, obj: InventoryReconciliation) -> str:
        return ", ".join(f"{c} {v}" for c, v in obj.value.items()) or "–"

    @display(description="figures")
    def figures(self, obj: InventoryReconciliation) -> SafeString:
        return format_html(
            "{} node×SKU pairs; {} within ±{} units ({}); {} differ, {} over the case "
            "thresholds (more than {} units or {} in value); oms counts {} units more and {} "
            "fewer than the nodes; value off {}",
            obj.pairs,
            obj.within_tolerance,
            obj.tolerance_units,
            self.accuracy_display(obj),
            obj.variance_pairs,
            obj.over_threshold,
            obj.case_units,
            f"{obj.case_value:.2f}" if obj.case_value else "any",
            obj.units_over,
            obj.units_under,
            self.value_display(obj),
        )

    @display(description="variance report (node × SKU)")
    def variance_report(self, obj: InventoryReconciliation) -> SafeString:
        rows = obj.variances.select_related("node", "product").order_by(
            "node__code", "product__sku"
        )[:500]
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td class='num'>{}</td><td class='num'>{}</td>"
            "<td class='num'>{}</td><td class='num'>{}</td><td>{}</td></tr>",
            (
                (
                    v.node.code,
                    v.product.sku,
                    v.oms_on_hand,
                    v.node_on_hand,
                    f"{v.variance:+d}",
                    f"{v.currency} {v.value}" if v.value is not None else "–",
                    "over threshold" if v.over_threshold else "",
                )
                for v in rows
            ),
        )
        if not rows:
            return format_html("<span>{}</span>", "Every pair agrees.")
        return format_html(
            "<table class='oms-table'><thead><tr><th>node</th><th>SKU</th><th>oms count</th>"
            "<th>node count</th><th>variance</th><th>value</th><th></th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    @display(description="rows refused")
    def read_errors(self, obj: InventoryReconciliation) -> str:
        counts = obj.report.get("error_counts") or {}
        return ", ".join(f"{code}: {n}" for code, n in counts.items()) or "none"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {**(extra_context or {}), "variance_chart": variance_chart()}
        )
