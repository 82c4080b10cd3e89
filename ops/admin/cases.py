"""Exception cases in the admin: read-only pages; assignment, remedies, resolving and
dismissing are actions (list and page) that call ops/services through
run_service_for_each(), so refusals show as messages with their detail."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm

from oms.core.admin_actions import ReadOnlyAdmin, dialog_action, plural, run_service_for_each
from ops.models import CaseStatus, ExceptionCase, Queue
from ops.selectors import cases_for_staff
from ops.services.cases import assign_case, dismiss_case, resolve_case
from ops.services.remedies import (
    cancel_case_lines,
    mark_parcel,
    release_case_holds,
    reprocess_message,
    reroute_case,
    retry_integration,
    unlock_pickup_case,
)

STATUS_COLOURS = {
    CaseStatus.OPEN: "warning",
    CaseStatus.IN_PROGRESS: "info",
    CaseStatus.RESOLVED: "success",
    CaseStatus.DISMISSED: "primary",
}
PRIORITY_COLOURS = {"p1": "danger", "p2": "warning", "p3": "info", "p4": "primary"}

# (action name, label, icon, service(case_id, user, note))
Remedy = Callable[[int, Any, str], Any]
REMEDIES: dict[str, tuple[str, str, Remedy]] = {
    "assign_to_me": (
        "Assign to me",
        "person",
        lambda c, u, n: assign_case(case_id=c, assignee=u, user=u),
    ),
    "reroute": ("Reroute", "alt_route", lambda c, u, n: reroute_case(case_id=c, user=u)),
    "retry": ("Retry integration", "replay", lambda c, u, n: retry_integration(case_id=c, user=u)),
    "release_hold": (
        "Release hold",
        "play_arrow",
        lambda c, u, n: release_case_holds(case_id=c, user=u, note=n),
    ),
    "cancel_lines": (
        "Cancel backordered lines",
        "block",
        lambda c, u, n: cancel_case_lines(case_id=c, user=u, reason=n),
    ),
    "mark_lost": (
        "Mark lost (reship per policy)",
        "travel_explore",
        lambda c, u, n: mark_parcel(case_id=c, user=u, outcome="lost"),
    ),
    "mark_damaged": (
        "Mark damaged (refund per policy)",
        "broken_image",
        lambda c, u, n: mark_parcel(case_id=c, user=u, outcome="damaged"),
    ),
    "reprocess": (
        "Re-process message",
        "sync",
        lambda c, u, n: reprocess_message(case_id=c, user=u),
    ),
    "unlock_pickup": (
        "Unlock pickup hand-over",
        "lock_open",
        lambda c, u, n: unlock_pickup_case(case_id=c, user=u, note=n),
    ),
    "resolve": ("Resolve", "check_circle", lambda c, u, n: resolve_case(case_id=c, user=u, note=n)),
    "dismiss": (
        "Dismiss",
        "do_not_disturb_on",
        lambda c, u, n: dismiss_case(case_id=c, user=u, note=n),
    ),
}


class NoteForm(BaseDialogForm):
    note = forms.CharField(max_length=500, required=False, label="Note")


class SlaBreachedFilter(admin.SimpleListFilter):
    title = "SLA breached"
    parameter_name = "sla_breached"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(sla_breached=self.value() == "yes")
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "mine"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Assigned to me"), ("nobody", "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


def _bulk(name: str) -> Callable[..., None]:
    label, _icon, service = REMEDIES[name]

    def run(self: Any, request: HttpRequest, queryset: QuerySet) -> None:
        run_service_for_each(
            request,
            queryset,
            lambda case: service(case.pk, request.user, ""),
            success_message=lambda n: f"{label}: {plural(n, 'case')} done.",
        )

    run.__name__ = f"{name}_selected"
    return action(description=f"{label} (selected)", permissions=["work"])(run)


def _detail(name: str) -> Callable[..., HttpResponse]:
    label, icon, service = REMEDIES[name]

    def run(self: Any, request: HttpRequest, form: NoteForm, case: ExceptionCase) -> str:
        service(case.pk, request.user, form.cleaned_data.get("note", ""))
        return f"{label}: case #{case.pk} done."

    run.__name__ = f"{name}_detail"
    return dialog_action(label=label, permission="work", icon=icon, form_class=NoteForm)(run)


class ExceptionCaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "subject_link",
        "status_label",
        "priority_label",
        "queue",
        "assignee",
        "sla_due_at",
        "sla_flag",
        "raised_at",
    )
    list_display_links = ("id", "kind")
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("queue", RelatedDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        ("priority", ChoicesDropdownFilter),
        SlaBreachedFilter,
        MineFilter,
    )
    list_filter_submit = True
    search_fields = ("subject_label", "summary")
    search_help_text = "Order, fulfillment, node or message; or words of the summary."
    ordering = ("sla_due_at", "id")
    actions = tuple(f"{name}_selected" for name in REMEDIES)
    actions_detail = tuple(f"{name}_detail" for name in REMEDIES)
    fields = (
        ("kind", "status"),
        ("subject_type", "subject_label", "order"),
        "summary",
        "details",
        ("queue", "priority", "rule_label"),
        ("sla_due_at", "assignee"),
        ("raised_at", "last_seen_at", "occurrences"),
        ("resolved_at", "resolution"),
        "resolution_note",
    )
    readonly_fields = tuple(
        name for row in fields for name in (row if isinstance(row, tuple) else (row,))
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExceptionCase]:
        return cases_for_staff()

    def has_work_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("ops.change_exceptioncase")

    @display(description="Subject", ordering="subject_label")
    def subject_link(self, obj: ExceptionCase) -> str:
        if obj.order_id is None:
            return f"{obj.get_subject_type_display()} {obj.subject_label}"
        url = reverse(f"{self.admin_site.name}:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.subject_label)

    @display(description="Status", ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj: ExceptionCase) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Priority", ordering="priority", label=PRIORITY_COLOURS)
    def priority_label(self, obj: ExceptionCase) -> tuple[str, str]:
        return obj.priority, obj.priority.upper()

    @display(description="SLA breached", boolean=True, ordering="sla_breached")
    def sla_flag(self, obj: ExceptionCase) -> bool:
        return bool(getattr(obj, "sla_breached", False))


for _name in REMEDIES:
    setattr(ExceptionCaseAdmin, f"{_name}_selected", _bulk(_name))
    setattr(ExceptionCaseAdmin, f"{_name}_detail", _detail(_name))
admin.site.register(ExceptionCase, ExceptionCaseAdmin)


@admin.register(Queue)
class QueueAdmin(ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
