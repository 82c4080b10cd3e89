"""Exception rule sets: rules are edited inline while the set is a draft; submit, approve,
reject are actions calling ops/services/rulesets.py (maker-checker is enforced there)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from unfold.admin import TabularInline

from inventory.models import Node
from oms.core.admin_actions import HistoryModelAdmin, adopt_created, dialog_action
from oms.core.errors import DomainError
from oms.core.models import RuleSetStatus
from ops.models import ExceptionRule, ExceptionRuleSet
from ops.rule_schema import threshold_errors
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    reject_exception_rule_set,
    submit_exception_rule_set,
    update_exception_rules,
)
from orders.models import Channel


def _is_draft(obj: Any) -> bool:
    return obj is None or obj.status == RuleSetStatus.DRAFT


class ExceptionRuleForm(forms.ModelForm):
    """Each rule through the schema (ops/rule_schema.py): a minimum order value above the
    maximum, an unknown kind or priority are refused on the row, in words."""

    class Meta:
        model = ExceptionRule
        fields = (
            "position",
            "kind",
            "channel_code",
            "node_code",
            "min_order_value",
            "max_order_value",
            "queue",
            "priority",
            "sla_minutes",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nodes = Node.objects.order_by("code").values_list("code", "name")
        channels = Channel.objects.order_by("code").values_list("code", "name")
        self.fields["node_code"] = forms.ChoiceField(
            choices=[("", "Any node"), *((c, f"{c} · {n}") for c, n in nodes)],
            required=False,
            label="Node",
        )
        self.fields["channel_code"] = forms.ChoiceField(
            choices=[("", "Any channel"), *((c, f"{c} · {n}") for c, n in channels)],
            required=False,
            label="Channel",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_order_value"), data.get("max_order_value")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_order_value",
                f"The maximum ({high}) is below the minimum ({low}): no order could match.",
            )
        return data


class ExceptionRuleSetForm(forms.ModelForm):
    class Meta:
        model = ExceptionRuleSet
        fields = ("key", "name", "description", "thresholds")
        help_texts = {
            "thresholds": 'Detector thresholds, e.g. {"backorder_days": 3, "feed_stale_hours": '
            '24, "stuck_minutes": {"created": 15}}. Whole numbers only.'
        }

    def clean_thresholds(self) -> Any:
        value = self.cleaned_data.get("thresholds")
        errors = threshold_errors(value)
        if errors:
            raise forms.ValidationError(errors)
        return value or {}


class ExceptionRuleInline(TabularInline):
    model = ExceptionRule
    form = ExceptionRuleForm
    extra = 0
    autocomplete_fields = ("queue",)
    fields = (
        "position",
        "kind",
        "channel_code",
        "node_code",
        "min_order_value",
        "max_order_value",
        "queue",
        "priority",
        "sla_minutes",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(obj) and super().has_delete_permission(request, obj)


@admin.register(ExceptionRuleSet)
class ExceptionRuleSetAdmin(HistoryModelAdmin):
    list_display = ("name", "key", "version", "status", "approved_by", "approved_at")
    list_filter = ("status",)
    inlines = (ExceptionRuleInline,)
    form = ExceptionRuleSetForm
    fields = ("key", "name", "description", "thresholds", "status", "review_note")
    readonly_fields = ("status", "review_note")
    actions = None
    actions_detail = ("submit_detail", "approve_detail", "reject_detail")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.readonly_fields if _is_draft(obj) else self.fields

    def save_model(
        self, request: HttpRequest, obj: ExceptionRuleSet, form: Any, change: bool
    ) -> None:
        """A new set goes through create_exception_rule_set() (version, event); edits of a
        draft are saved with its rules in save_related(), through update_exception_rules()."""
        if change:
            return
        created = create_exception_rule_set(
            name=obj.name,
            rules=[],
            author=request.user,
            key=obj.key,
            thresholds=obj.thresholds,
        )
        adopt_created(obj, created)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        rules = sorted(
            (
                f.cleaned_data
                for formset in formsets
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ),
            key=lambda data: data.get("position") or 0,
        )
        for formset in formsets:  # saved through the service, not formset.save()
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        obj = form.instance
        try:
            update_exception_rules(
                rule_set_id=obj.pk,
                editor=request.user,
                name=obj.name,
                description=obj.description,
                thresholds=obj.thresholds,
                rules=[
                    {
                        "queue": data["queue"].code,
                        "kind": data.get("kind") or "",
                        "channel": data.get("channel_code") or "",
                        "node": data.get("node_code") or "",
                        "min_order_value": data.get("min_order_value"),
                        "max_order_value": data.get("max_order_value"),
                        "priority": data.get("priority") or "p3",
                        "sla_minutes": data.get("sla_minutes") or 240,
                    }
                    for data in rules
                ],
            )
        except DomainError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("ops.change_exceptionruleset")

    @dialog_action(label="Submit for approval", permission="review", icon="send")
    def submit_detail(self, request: HttpRequest, form: Any, rule_set: ExceptionRuleSet) -> str:
        submit_exception_rule_set(rule_set_id=rule_set.pk, user=request.user)
        return "Submitted for approval."

    @dialog_action(label="Approve", permission="review", icon="verified")
    def approve_detail(self, request: HttpRequest, form: Any, rule_set: ExceptionRuleSet) -> str:
        approve_exception_rule_set(rule_set_id=rule_set.pk, approver=request.user)
        return "Approved: this rule set is now active."

    @dialog_action(label="Send back to draft", permission="review", icon="undo")
    def reject_detail(self, request: HttpRequest, form: Any, rule_set: ExceptionRuleSet) -> str:
        reject_exception_rule_set(rule_set_id=rule_set.pk, approver=request.user, note="Sent back")
        return "Sent back to draft."
