"""Routing decisions in the admin: a read-only list, and the "Routing" panel of the order page.

A decision stores the plan as `{"attempts": [Plan.to_stored_dict(), ...]}` (one attempt per
planning round of route_order()). The panel shows the last attempt in words: what was chosen,
what was backordered, and the stored candidate nodes (the chosen ones, the best other eligible
ones, the best-scored excluded ones) with their distance, score, and the exclusion reasons
exactly as the engine wrote them, plus how many nodes each filter excluded. Decisions written
before the compact form stored every candidate (`Plan.to_dict()`); they show all of them.
"""

from collections import Counter
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from fulfillment.admin.formatting import label_html
from fulfillment.models import RoutingDecision, RoutingOutcome
from fulfillment.selectors import decisions_for_order
from fulfillment.sourcing import KIND_LABEL
from oms.core.admin_actions import ReadOnlyAdmin

VIEW_PERMISSION = "fulfillment.view_routingdecision"

OUTCOME_COLOURS = {
    RoutingOutcome.ROUTED: "success",
    RoutingOutcome.PARTIALLY_BACKORDERED: "warning",
    RoutingOutcome.BACKORDERED: "warning",
    RoutingOutcome.REJECTED: "danger",
}
COMPONENT_LABELS = {
    "distance": "distance",
    "priority": "priority",
    "cost": "cost",
    "stock_depth": "stock depth",
}


def routing_panel_context(request: HttpRequest, order: Any) -> dict[str, Any]:
    """Context of the order page's "Routing" panel (templates/admin/
    ops/order/change_form.html): shown to users who may view routing decisions."""
    if not request.user.has_perm(VIEW_PERMISSION):
        return {"show_routing_panel": False}
    lines = {line.pk: line for line in order.lines.all()}
    return {
        "show_routing_panel": True,
        "routing_decisions": [
            decision_view(decision, lines, request) for decision in decisions_for_order(order.pk)
        ],
    }


def decision_view(
    decision: RoutingDecision, lines: dict[int, Any], request: HttpRequest
) -> dict[str, Any]:
    attempts = (decision.plan or {}).get("attempts") or []
    last = attempts[-1] if attempts else {}
    assignments = last.get("assignments") or []
    chosen = {a["node_id"] for a in assignments}
    candidates = last.get("candidates") or []
    total = last.get("candidates_total", len(candidates))
    counts = last.get("exclusion_counts")
    if counts is None:  # a decision that stored every candidate: count them here
        counts = Counter(
            f for c in candidates for f in sorted({e["filter"] for e in c.get("excluded") or []})
        )

    def line_words(line_id: int) -> str:
        line = lines.get(line_id)
        return f"Line {line.line_number} ({line.sku})" if line else f"Line #{line_id}"

    return {
        "decision": decision,
        "outcome_colour": OUTCOME_COLOURS.get(decision.outcome, ""),
        "rule_set_url": _admin_url(
            request, "fulfillment.view_routingruleset", "routingruleset", decision.rule_set_id
        ),
        "decision_url": _admin_url(request, VIEW_PERMISSION, "routingdecision", decision.pk),
        "attempts": len(attempts),
        "allocations": [
            {"line": line_words(a["line_id"]), "node": a["node_code"], "quantity": a["quantity"]}
            for a in assignments
        ],
        "backordered": [
            {"line": line_words(b["line_id"]), "quantity": b["quantity"]}
            for b in last.get("backordered") or []
        ],
        "candidates": sorted(
            (_candidate_row(c, chosen) for c in candidates),
            key=lambda row: (row["rank"], row["sort_score"], row["code"]),
        ),
        "candidates_total": total,
        "candidates_not_shown": max(0, total - len(candidates)),
        "exclusion_counts": [
            {"filter": name, "nodes": nodes} for name, nodes in sorted(counts.items()) if nodes
        ],
    }


def _candidate_row(candidate: dict[str, Any], chosen: set[int]) -> dict[str, Any]:
    excluded = candidate.get("excluded") or []
    is_chosen = candidate.get("node_id") in chosen
    eligible = bool(candidate.get("eligible"))
    distance, score = candidate.get("distance_miles"), candidate.get("score")
    usable = candidate.get("usable") or {}
    return {
        "code": candidate.get("code", "?"),
        "kind": KIND_LABEL.get(candidate.get("kind", ""), candidate.get("kind", "")),
        "distance": "unknown" if distance is None else f"{distance:,.1f}",
        "score": "—" if score is None else f"{score:.2f}",
        "components": ", ".join(
            f"{COMPONENT_LABELS.get(name, name)} {value:+.2f}"
            for name, value in (candidate.get("score_components") or {}).items()
            if value is not None
        ),
        "usable": ", ".join(f"{sku} ×{quantity}" for sku, quantity in usable.items()),
        "chosen": is_chosen,
        "eligible": eligible,
        "state": "chosen" if is_chosen else "eligible" if eligible else "excluded",
        # Node-level reasons exclude the node; product-level ones (with a sku) only that item.
        "reasons": [e["reason"] for e in excluded],
        "rank": 0 if is_chosen else 1 if eligible else 2,
        "sort_score": score if score is not None else float("inf"),
    }


def _admin_url(request: HttpRequest, permission: str, model: str, pk: int | None) -> str | None:
    if pk is None or not request.user.has_perm(permission):
        return None
    try:
        return reverse(f"admin:fulfillment_{model}_change", args=[pk])
    except NoReverseMatch:
        return None


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "order_number",
        "outcome_label",
        "rule_set_label",
        "trigger",
        "elapsed_ms",
        "created_at",
    )
    list_filter = (("outcome", ChoicesDropdownFilter),)
    list_filter_submit = True
    search_fields = ("order__number",)
    search_help_text = "Order number."
    ordering = ("-created_at", "-id")
    actions = None
    fields = (
        ("order_link", "outcome_badge"),
        ("rule_set_label", "trigger"),
        ("elapsed_ms", "created_at"),
    )
    readonly_fields = (
        "order_link",
        "outcome_badge",
        "rule_set_label",
        "trigger",
        "elapsed_ms",
        "created_at",
    )
    change_form_outer_after_template = "admin/fulfillment/routingdecision/detail.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoutingDecision]:
        return super().get_queryset(request).select_related("order", "rule_set")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: RoutingDecision | None = None,
    ) -> HttpResponse:
        if obj is not None:
            lines = {line.pk: line for line in obj.order.lines.all()}
            context["routing_decision"] = decision_view(obj, lines, request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- columns -------------------------------------------------------------------------

    @display(description="Order", ordering="order__number")
    def order_number(self, obj: RoutingDecision) -> str:
        return obj.order.number

    @display(description="Order")
    def order_link(self, obj: RoutingDecision) -> SafeString | str:
        url = _order_url(obj.order_id)
        if url is None:
            return obj.order.number
        return format_html('<a href="{}" class="text-primary-600">{}</a>', url, obj.order.number)

    @display(description="Outcome")
    def outcome_badge(self, obj: RoutingDecision) -> SafeString:
        return label_html(obj.get_outcome_display(), OUTCOME_COLOURS.get(obj.outcome, ""))

    @display(description="Outcome", ordering="outcome", label=OUTCOME_COLOURS)
    def outcome_label(self, obj: RoutingDecision) -> tuple[str, str]:
        return obj.outcome, obj.get_outcome_display()


def _order_url(order_id: int) -> str | None:
    try:
        return reverse("admin:orders_order_change", args=[order_id])
    except NoReverseMatch:
        return None
