"""Exception cases in the admin: read-only pages; assignment, remedies, resolving and
dismissing are actions (list and page) that call ops/services through
run_service_for_each(), so refusals show as messages with their detail."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm

from oms.core.admin_actions import ReadOnlyAdmin, dialog_action, plural, run_service_for_each
from ops.admin.details import render_details
from ops.exceptions import OpsErrorCode, OpsRefused
from ops.models import OPEN_CASE_STATUSES, CaseStatus, ExceptionCase, Queue
from ops.remedy_rules import ALWAYS, SAFE_IN_BULK, fits
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

# (action name) → (label, icon, service(case_id, user, note), what the dialog says it will do)
Remedy = Callable[[int, Any, str], Any]
REMEDIES: dict[str, tuple[str, str, Remedy, str]] = {
    "assign_to_me": (
        "Assign to me",
        "person",
        lambda c, u, n: assign_case(case_id=c, assignee=u, user=u),
        "You become the case's assignee; it moves to in progress.",
    ),
    "reroute": (
        "Reroute",
        "alt_route",
        lambda c, u, n: reroute_case(case_id=c, user=u),
        "Routes what is not yet reserved again, excluding nodes that rejected or came up "
        "short. The case is resolved when nothing is left unrouted.",
    ),
    "retry": (
        "Retry integration",
        "replay",
        lambda c, u, n: retry_integration(case_id=c, user=u),
        "Sends the fulfillment order to its node again, or re-processes the inbound message.",
    ),
    "release_hold": (
        "Release hold",
        "play_arrow",
        lambda c, u, n: release_case_holds(case_id=c, user=u, note=n),
        "Releases the order's active holds: fulfillment resumes and nodes get the work.",
    ),
    "cancel_lines": (
        "Cancel backordered lines",
        "block",
        lambda c, u, n: cancel_case_lines(case_id=c, user=u, reason=n),
        "Cancels the order's lines not yet at a node; their stock is released. This cannot "
        "be undone.",
    ),
    "mark_lost": (
        "Mark lost (reship per policy)",
        "travel_explore",
        lambda c, u, n: mark_parcel(case_id=c, user=u, outcome="lost"),
        "Records the parcel as lost and asks for a reship or refund per the parcel policy. "
        "The case is resolved.",
    ),
    "mark_damaged": (
        "Mark damaged (refund per policy)",
        "broken_image",
        lambda c, u, n: mark_parcel(case_id=c, user=u, outcome="damaged"),
        "Records the parcel as damaged and asks for a refund or reship per the parcel "
        "policy. The case is resolved.",
    ),
    "reprocess": (
        "Re-process message",
        "sync",
        lambda c, u, n: reprocess_message(case_id=c, user=u),
        "Runs the failed inbound message again, as if it had just arrived.",
    ),
    "unlock_pickup": (
        "Unlock pickup hand-over",
        "lock_open",
        lambda c, u, n: unlock_pickup_case(case_id=c, user=u, note=n),
        "Lets the store hand the parcel over again after too many wrong pickup codes. Check "
        "the customer's identity first.",
    ),
    "resolve": (
        "Resolve",
        "check_circle",
        lambda c, u, n: resolve_case(case_id=c, user=u, note=n),
        "Closes the case as resolved: the problem is fixed.",
    ),
    "dismiss": (
        "Dismiss",
        "do_not_disturb_on",
        lambda c, u, n: dismiss_case(case_id=c, user=u, note=n),
        "Closes the case without a fix: it was not a problem.",
    ),
}
# The action bar: the case's own actions, then the remedies in a dropdown (only the ones
# that fit the case's kind and state are offered: ops/remedy_rules.py).
REMEDY_NAMES = [name for name in REMEDIES if name not in ALWAYS]


class NoteForm(BaseDialogForm):
    note = forms.CharField(
        max_length=500,
        required=False,
        label="Note (kept on the case)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CaseStateFilter(admin.SimpleListFilter):
    """Open cases (new or in progress) unless asked otherwise: the queue is what is left."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open (default)"), ("closed", "Resolved or dismissed"), ("all", "All")]

    def value(self) -> str:
        return super().value() or "open"

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_CASE_STATUSES)
        if self.value() == "closed":
            return queryset.exclude(status__in=OPEN_CASE_STATUSES)
        return queryset


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
    """A list action, for the remedies safe in bulk; a case it does not fit is reported, not
    touched."""
    label, _icon, service, _explanation = REMEDIES[name]

    def run(self: Any, request: HttpRequest, queryset: QuerySet) -> None:
        fitting = []
        for case in queryset:
            if fits(name, case, user=request.user):
                fitting.append(case)
            else:
                messages.warning(request, f"{case}: {label} does not apply to this case.")
        run_service_for_each(
            request,
            fitting,
            lambda case: service(case.pk, request.user, ""),
            success_message=lambda n: f"{label}: {plural(n, 'case')} done.",
        )

    run.__name__ = f"{name}_selected"
    return action(description=f"{label} (selected)", permissions=["work"])(run)


def _detail(name: str) -> Callable[..., HttpResponse]:
    """A page button with a dialog that says what will happen and asks to confirm."""
    label, icon, service, explanation = REMEDIES[name]

    def run(self: Any, request: HttpRequest, form: NoteForm, case: ExceptionCase) -> str:
        if not fits(name, case, user=request.user):
            raise OpsRefused(OpsErrorCode.NOT_APPLICABLE, f"{label} does not apply to this case.")
        service(case.pk, request.user, form.cleaned_data.get("note", ""))
        return f"{label}: case #{case.pk} done."

    run.__name__ = f"{name}_detail"
    return dialog_action(
        label=label,
        permission=f"remedy_{name}",
        icon=icon,
        form_class=NoteForm,
        title=f"{label}?",
        explanation=explanation,
        submit_text=f"Yes, {label[0].lower()}{label[1:]}",
    )(run)


def _permission(name: str) -> Callable[..., bool]:
    def has_permission(self: Any, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_work_permission(request):
            return False
        case = self._case(obj)
        return case is None or fits(name, case, user=request.user)

    has_permission.__name__ = f"has_remedy_{name}_permission"
    return has_permission


class ExceptionCaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "subject_link",
        "status_label",
        "priority_label",
        "queue",
        "assignee",
        "sla_due",
        "sla_flag",
        "raised",
    )
    list_display_links = ("id", "kind")
    list_filter = (
        CaseStateFilter,
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
    actions = tuple(f"{name}_selected" for name in REMEDIES if name in SAFE_IN_BULK)
    actions_detail = (
        "assign_to_me_detail",
        {
            "title": "Remedies",
            "icon": "healing",
            "items": [f"{name}_detail" for name in REMEDY_NAMES],
        },
        "resolve_detail",
        "dismiss_detail",
    )
    fields = (
        ("kind", "status"),
        ("subject_type", "subject_label", "order"),
        "summary",
        "details_table",
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

    def _case(self, obj: Any) -> ExceptionCase | None:
        """The case a page action is asked about (unfold passes the object id)."""
        if obj is None or obj == "":
            return None
        if isinstance(obj, ExceptionCase):
            return obj
        try:
            return cases_for_staff().filter(pk=int(str(obj))).first()
        except ValueError:
            return None

    @display(description="Details")
    def details_table(self, obj: ExceptionCase) -> str:
        """What the detector recorded, as label: value rows (lists of records as small tables);
        a dash when it recorded nothing, never raw JSON."""
        return render_details(obj.details)

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

    @display(description="SLA due", ordering="sla_due_at")
    def sla_due(self, obj: ExceptionCase) -> str:
        return date_format(localtime(obj.sla_due_at), "M j, H:i") if obj.sla_due_at else "—"

    @display(description="SLA", ordering="sla_breached", label={"breached": "danger"})
    def sla_flag(self, obj: ExceptionCase) -> tuple[str, str] | str:
        """A red "Breached" where the SLA is missed; nothing otherwise (not a red ✕)."""
        return ("breached", "Breached") if getattr(obj, "sla_breached", False) else ""

    @display(description="Raised", ordering="raised_at")
    def raised(self, obj: ExceptionCase) -> str:
        return date_format(localtime(obj.raised_at), "M j, H:i")


for _name in REMEDIES:
    if _name in SAFE_IN_BULK:
        setattr(ExceptionCaseAdmin, f"{_name}_selected", _bulk(_name))
    setattr(ExceptionCaseAdmin, f"{_name}_detail", _detail(_name))
    setattr(ExceptionCaseAdmin, f"has_remedy_{_name}_permission", _permission(_name))
admin.site.register(ExceptionCase, ExceptionCaseAdmin)


@admin.register(Queue)
class QueueAdmin(ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
