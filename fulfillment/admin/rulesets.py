"""Routing rule sets in the admin: drafted, edited, submitted, backtested, approved, rejected,
versioned and retired only through fulfillment.services (rulesets.py, backtest.py).

The add page asks for what `create_rule_set()` needs, with the configuration as JSON pre-filled
with the built-in defaults; a draft's page edits it through `update_draft()`. Anything past
draft is frozen: its page is read-only and "New version" starts a new draft. The buttons on the
page are unfold dialog actions: a GET shows the dialog, only its POST (with the CSRF token)
calls the service, and a refusal (maker-checker, missing backtest, wrong state) becomes an
error message.
"""

import json
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter
from unfold.dataclasses import UnfoldAction
from unfold.decorators import display
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminTextareaWidget, UnfoldAdminTextInputWidget

from fulfillment.admin.formatting import label_html, percent, period_words
from fulfillment.models import RoutingRuleSet, RuleSetStatus
from fulfillment.rules import RuleConfig, validate_rule_config
from fulfillment.services.backtest import run_backtest
from fulfillment.services.rulesets import (
    approve_rule_set,
    create_rule_set,
    new_version_of,
    reject_rule_set,
    retire_rule_set,
    submit_rule_set,
    update_draft,
)
from oms.core.admin_actions import Done, HistoryModelAdmin, change_url, dialog_action
from oms.core.errors import DomainError
from orders.models import Channel

FROZEN_NOTE = "Submitted versions are frozen — use 'New version' to change it."
BACKTEST_DAYS = 30
BACKTESTS_SHOWN = 50

STATUS_COLOURS = {
    RuleSetStatus.DRAFT: "info",
    RuleSetStatus.PENDING_APPROVAL: "warning",
    RuleSetStatus.ACTIVE: "success",
}

# Which detail actions the page offers in which state. The services refuse the others anyway
# (a page left open while someone else acted gets the refusal as a message).
ACTION_STATES = {
    "submit_detail": (RuleSetStatus.DRAFT,),
    "approve_detail": (RuleSetStatus.PENDING_APPROVAL,),
    "reject_detail": (RuleSetStatus.PENDING_APPROVAL,),
    "retire_detail": (RuleSetStatus.ACTIVE,),
}

MONOSPACE = "font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px;"
CONFIG_HELP = (
    "The rule set as JSON. Every setting is described in docs/routing.md; a setting left out "
    "keeps its default and an unknown one is refused."
)

FIELD_HELP = {
    "key": "Identifies the rule set across versions; an existing key gets its next version.",
    "channel": "Empty: the default for every channel without a rule set of its own.",
}


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class _ServiceRefused(Exception):
    """A service refused the save after the form validated (e.g. the draft was submitted
    meanwhile): turned into an error message by RoutingRuleSetAdmin.changeform_view."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.detail)
        self.error = error


# --- forms -----------------------------------------------------------------------------------


class RuleSetForm(forms.ModelForm):
    """Add page and draft page. The config arrives as JSON text and leaves as a dict that
    validate_rule_config() accepted; its plain-English messages are the field's errors."""

    config = forms.CharField(
        label="Configuration (JSON)",
        help_text=CONFIG_HELP,
        strip=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 30, "spellcheck": "false"}),
    )

    class Meta:
        model = RoutingRuleSet
        fields = ("key", "name", "description", "channel", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.instance.config if self.instance.pk else RuleConfig().model_dump(mode="json")
        self.initial["config"] = pretty_json(source)
        self.fields["config"].widget.attrs["style"] = MONOSPACE
        for name, help_text in FIELD_HELP.items():
            if name in self.fields:
                self.fields[name].help_text = help_text

    def clean_config(self) -> dict[str, Any]:
        text = self.cleaned_data["config"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "This is not valid JSON: %(problem)s (line %(line)s, column %(column)s).",
                code="invalid_json",
                params={"problem": exc.msg, "line": exc.lineno, "column": exc.colno},
            ) from None
        if not isinstance(data, dict):
            raise ValidationError(
                "The configuration must be a JSON object: { ... }.", code="invalid_rule_config"
            )
        parsed, problems = validate_rule_config(data)
        if parsed is None:
            raise ValidationError(
                [ValidationError(problem, code="invalid_rule_config") for problem in problems]
            )
        # Normalised (defaults filled in), as the service stores it: `{}` is a valid rule set
        # but would read as a blank field to the model's own validation.
        return parsed.model_dump(mode="json")


class DateInput(UnfoldAdminTextInputWidget):
    input_type = "date"


def _days_ago(days: int) -> Any:
    return lambda: timezone.localdate() - timedelta(days=days)


class BacktestForm(BaseDialogForm):
    period_from = forms.DateField(label="From", initial=_days_ago(BACKTEST_DAYS), widget=DateInput)
    period_to = forms.DateField(
        label="To (inclusive)", initial=timezone.localdate, widget=DateInput
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("period_from"), cleaned.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", "'To' must be on or after 'From'.")
        return cleaned

    def period(self) -> tuple[datetime, datetime]:
        """[first day 00:00, day after the last 00:00) in the site's time zone."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.cleaned_data["period_from"], time.min, tzinfo=zone)
        end = datetime.combine(
            self.cleaned_data["period_to"] + timedelta(days=1), time.min, tzinfo=zone
        )
        return start, end


class ApproveForm(BaseDialogForm):
    note = forms.CharField(
        label="Note", max_length=500, required=False, widget=UnfoldAdminTextInputWidget
    )


class RejectForm(BaseDialogForm):
    note = forms.CharField(
        label="What needs to change",
        max_length=500,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 4}),
    )


# --- filters ---------------------------------------------------------------------------------


class ChannelScopeFilter(DropdownFilter):
    """A rule set is for one channel or the default for all: 'default' is a choice of its own."""

    title = "channel"
    parameter_name = "scope"
    DEFAULT = "default"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        channels = Channel.objects.order_by("code").values_list("pk", "code")
        return [(self.DEFAULT, "Default (every channel)")] + [
            (str(pk), code) for pk, code in channels
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value == self.DEFAULT:
            return queryset.filter(channel__isnull=True)
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(channel_id=int(value))


# --- admin -----------------------------------------------------------------------------------

DETAIL_FIELDS = (
    "key",
    "version",
    "scope",
    "status_badge",
    "created_by",
    "created_at",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "retired_at",
    "review_note",
)


@admin.register(RoutingRuleSet)
class RoutingRuleSetAdmin(HistoryModelAdmin):
    form = RuleSetForm
    list_display = (
        "key",
        "version",
        "name",
        "scope",
        "status_label",
        "created_by",
        "approved_by",
        "approved_at",
        "latest_backtest",
    )
    list_display_links = ("key", "name")
    list_filter = (("status", ChoicesDropdownFilter), ChannelScopeFilter)
    list_filter_submit = True
    search_fields = ("key", "name")
    search_help_text = "Key or name."
    ordering = ("key", "-version")
    actions = None
    actions_detail = (
        "submit_detail",
        "backtest_detail",
        "approve_detail",
        "reject_detail",
        "new_version_detail",
        "retire_detail",
    )
    change_form_before_template = "admin/fulfillment/routingruleset/frozen_note.html"
    change_form_outer_after_template = "admin/fulfillment/routingruleset/backtests.html"

    # --- reads ---------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoutingRuleSet]:
        return (
            super()
            .get_queryset(request)
            .select_related("channel", "created_by", "submitted_by", "approved_by")
            .annotate(latest_backtest_at=Max("backtests__created_at"))
        )

    def _editable(self, request: HttpRequest, obj: RoutingRuleSet) -> bool:
        return obj.status == RuleSetStatus.DRAFT and self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: RoutingRuleSet | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": (("key", "channel"), "name", "description", "config")}),)
        config = "config" if self._editable(request, obj) else "config_pretty"
        return (
            (
                "Rule set",
                {"fields": (("key", "version"), ("scope", "status_badge"), "name", "description")},
            ),
            (None, {"fields": (config,)}),
            (
                "Review",
                {
                    "fields": (
                        ("created_by", "created_at"),
                        ("submitted_by", "submitted_at"),
                        ("approved_by", "approved_at"),
                        ("retired_at", "review_note"),
                    )
                },
            ),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: RoutingRuleSet | None = None) -> Any:
        if obj is None:
            return ()
        if self._editable(request, obj):
            return DETAIL_FIELDS
        return (*DETAIL_FIELDS, "name", "description", "config_pretty")

    def get_form(
        self,
        request: HttpRequest,
        obj: RoutingRuleSet | None = None,
        change: bool = False,
        **kw: Any,
    ) -> Any:
        if obj is not None and not self._editable(request, obj):
            kw["form"] = forms.ModelForm  # nothing to edit: no config field to validate
        return super().get_form(request, obj, change, **kw)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: RoutingRuleSet | None = None,
    ) -> HttpResponse:
        context["frozen_note"] = FROZEN_NOTE
        context["rule_set_backtests"] = self._backtest_rows(request, obj) if obj else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _backtest_rows(self, request: HttpRequest, obj: RoutingRuleSet) -> list[dict[str, Any]]:
        may_view = request.user.has_perm("fulfillment.view_backtestreport")
        reports = obj.backtests.select_related("created_by").order_by("-created_at", "-id")
        return [
            {
                "report": report,
                "url": (
                    reverse(
                        f"{self.admin_site.name}:fulfillment_backtestreport_change",
                        args=[report.pk],
                    )
                    if may_view
                    else None
                ),
                "period": period_words(report.period_from, report.period_to),
                "baseline": report.baseline_metrics.get("label", "—"),
                "candidate_share": percent(report.candidate_metrics.get("fully_sourced_share")),
                "baseline_share": percent(report.baseline_metrics.get("fully_sourced_share")),
            }
            for report in reports[:BACKTESTS_SHOWN]
        ]

    # --- permissions: rule sets change only through the services --------------------------

    def has_change_permission(
        self, request: HttpRequest, obj: RoutingRuleSet | None = None
    ) -> bool:
        if obj is not None and obj.status != RuleSetStatus.DRAFT:
            return False  # frozen: "New version" instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: RoutingRuleSet | None = None
    ) -> bool:
        return False  # decisions and backtests point at it: retire instead

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # a revert would write the row around the services

    def has_submit_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("fulfillment.change_routingruleset")

    def has_review_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("fulfillment.change_routingruleset")

    def has_backtest_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("fulfillment.add_backtestreport")

    def has_new_version_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("fulfillment.add_routingruleset")

    def get_actions_detail(self, request: HttpRequest, object_id: int | str) -> list[UnfoldAction]:
        allowed = super().get_actions_detail(request, object_id)
        rule_set = self.get_object(request, unquote(str(object_id)))
        if rule_set is None:
            return allowed
        prefix = f"{self.opts.app_label}_{self.opts.model_name}_"
        return [
            found
            for found in allowed
            if rule_set.status
            in ACTION_STATES.get(found.action_name.removeprefix(prefix), (rule_set.status,))
        ]

    # --- saving: the add page creates, a draft's page updates, both through services -------

    def save_model(
        self, request: HttpRequest, obj: RoutingRuleSet, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            if change:
                saved = update_draft(
                    rule_set_id=obj.pk,
                    config=data["config"],
                    editor=request.user,
                    name=data["name"],
                    description=data["description"],
                )
            else:
                channel = data.get("channel")
                saved = create_rule_set(
                    key=data["key"],
                    name=data["name"],
                    description=data["description"],
                    channel_code=channel.code if channel else None,
                    config=data["config"],
                    author=request.user,
                )
        except DomainError as exc:
            raise _ServiceRefused(exc) from exc
        # The admin logs and redirects with `obj`: make it the row the service wrote. The
        # status is left alone (a draft either way; FSM fields are not assigned here).
        for model_field in RoutingRuleSet._meta.concrete_fields:
            if model_field.name != "status":
                setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _ServiceRefused as refused:
            messages.error(request, refused.error.detail)
            return HttpResponseRedirect(request.get_full_path())

    def response_add(
        self, request: HttpRequest, obj: RoutingRuleSet, post_url_continue: str | None = None
    ) -> HttpResponse:
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return response
        return HttpResponseRedirect(change_url(self, obj))  # next: backtest and submit it

    # --- list and page columns -----------------------------------------------------------

    @display(description="Channel", ordering="channel__code")
    def scope(self, obj: RoutingRuleSet) -> str:
        return obj.channel.code if obj.channel_id else "default"

    @display(description="Status", ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj: RoutingRuleSet) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Status")
    def status_badge(self, obj: RoutingRuleSet) -> SafeString:
        return label_html(obj.get_status_display(), STATUS_COLOURS.get(obj.status, ""))

    @display(description="Latest backtest", ordering="latest_backtest_at", empty_value="never")
    def latest_backtest(self, obj: RoutingRuleSet) -> datetime | None:
        return getattr(obj, "latest_backtest_at", None)

    @display(description="Configuration")
    def config_pretty(self, obj: RoutingRuleSet) -> SafeString:
        return format_html(
            '<pre style="{}white-space: pre-wrap; margin: 0;">{}</pre>',
            MONOSPACE,
            pretty_json(obj.config),
        )

    # --- page actions (dialogs: GET shows the form, POST calls the service) ----------------

    @dialog_action(
        label="Submit for approval",
        permission="submit",
        icon="send",
        explanation="The version is frozen from now on. Someone other than its author approves "
        "it, after a backtest.",
        submit_text="Submit",
    )
    def submit_detail(
        self, request: HttpRequest, form: BaseDialogForm, rule_set: RoutingRuleSet
    ) -> str:
        submit_rule_set(rule_set_id=rule_set.pk, user=request.user)
        return f"{_version(rule_set)} submitted for approval."

    @dialog_action(
        label="Run backtest",
        permission="backtest",
        icon="query_stats",
        form_class=BacktestForm,
        explanation="Replays the period's orders with this version and with the active set, "
        "and compares them. No stock is touched.",
    )
    def backtest_detail(
        self, request: HttpRequest, form: BacktestForm, rule_set: RoutingRuleSet
    ) -> Done:
        period_from, period_to = form.period()
        report = run_backtest(
            rule_set_id=rule_set.pk, period_from=period_from, period_to=period_to, user=request.user
        )
        return Done(
            f"Backtest of {_version(rule_set)}: {report.orders_considered} orders replayed.",
            reverse(f"{self.admin_site.name}:fulfillment_backtestreport_change", args=[report.pk]),
        )

    @dialog_action(
        label="Approve",
        permission="review",
        icon="verified",
        form_class=ApproveForm,
        explanation="The version becomes the active rule set of its channel (or the default) "
        "and replaces the one active now.",
    )
    def approve_detail(
        self, request: HttpRequest, form: ApproveForm, rule_set: RoutingRuleSet
    ) -> str:
        approve_rule_set(
            rule_set_id=rule_set.pk, approver=request.user, note=form.cleaned_data["note"]
        )
        return f"{_version(rule_set)} approved: it is active now."

    @dialog_action(
        label="Reject",
        permission="review",
        icon="undo",
        form_class=RejectForm,
        explanation="Sends the version back to draft with your note.",
    )
    def reject_detail(
        self, request: HttpRequest, form: RejectForm, rule_set: RoutingRuleSet
    ) -> str:
        reject_rule_set(
            rule_set_id=rule_set.pk, approver=request.user, note=form.cleaned_data["note"]
        )
        return f"{_version(rule_set)} sent back to draft."

    @dialog_action(
        label="New version",
        permission="new_version",
        icon="content_copy",
        explanation="Starts a draft with the next version number, copied from this one.",
        submit_text="Create draft",
    )
    def new_version_detail(
        self, request: HttpRequest, form: BaseDialogForm, rule_set: RoutingRuleSet
    ) -> Done:
        draft = new_version_of(rule_set_id=rule_set.pk, author=request.user)
        return Done(
            f"Version {draft.version} of {draft.key} drafted from {_version(rule_set)}.",
            change_url(self, draft),
        )

    @dialog_action(
        label="Retire",
        permission="review",
        icon="archive",
        explanation="Stops using this set. Its channel falls back to the default rule set (or "
        "the built-in defaults).",
    )
    def retire_detail(
        self, request: HttpRequest, form: BaseDialogForm, rule_set: RoutingRuleSet
    ) -> str:
        retire_rule_set(rule_set_id=rule_set.pk, user=request.user)
        return f"{_version(rule_set)} retired."


def _version(rule_set: RoutingRuleSet) -> str:
    return f"{rule_set.name} v{rule_set.version}"
