"""The cutover in the admin: plans (approve or reject as a second person), the dashboard, the
shadow diff (on screen and as CSV), and the handoffs to the legacy system (revive a dead one).
Actions call the services; the pages render migration/dashboard.py."""

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from unfold.admin import ModelAdmin
from unfold.decorators import action

from migration.dashboard import (
    BAR_OPTIONS,
    LINE_OPTIONS,
    SCREEN_COLUMNS,
    channel_panels,
    diff_csv,
    diff_screen_rows,
)
from migration.models import CutoverPlan, LegacyHandoff
from migration.selectors import order_diffs, shadow_summary
from migration.services.cutover import approve_plan, reject_plan
from migration.services.handoff import revive_handoff
from oms.core.actors import Actor
from oms.core.errors import DomainError


@admin.register(CutoverPlan)
class CutoverPlanAdmin(ModelAdmin):
    list_display = [
        "key",
        "version",
        "mode",
        "share_percent",
        "status",
        "created_by",
        "approved_by",
        "approved_at",
    ]
    list_filter = ["status", "mode", "key"]
    actions = ["approve", "reject"]
    readonly_fields = [
        "key", "channel", "version", "name", "mode", "share_percent", "narrowing", "status",
        "created_by", "submitted_by", "submitted_at", "approved_by", "approved_at", "retired_at",
        "review_note",
    ]  # fmt: skip
    change_list_template = "admin/migration/cutoverplan/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py cutover` proposes plans (one way in: propose_plan)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="migration_cutoverplan_dashboard",
            ),
            path(
                "shadow-diff/",
                self.admin_site.admin_view(self.shadow_diff_view),
                name="migration_cutoverplan_shadow_diff",
            ),
        ]
        return own + super().get_urls()

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Cutover dashboard",
            "opts": self.opts,
            "panels": channel_panels(),
            "line_options": _json_options("line"),
            "bar_options": _json_options("bar"),
        }
        return TemplateResponse(request, "admin/migration/cutoverplan/dashboard.html", context)

    def shadow_diff_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        channel = request.GET.get("channel", "")
        diffs = order_diffs(channel_code=channel or None)
        if request.GET.get("format") == "csv":
            response = HttpResponse(diff_csv(diffs), content_type="text/csv")
            response["Content-Disposition"] = 'attachment; filename="shadow-diff.csv"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Shadow diff",
            "opts": self.opts,
            "channel": channel,
            "columns": SCREEN_COLUMNS,
            "rows": diff_screen_rows(diffs),
            "summary": shadow_summary(diffs),
            "whole": shadow_summary(diffs, by_day=False),
        }
        return TemplateResponse(request, "admin/migration/cutoverplan/shadow_diff.html", context)

    @action(description="Approve (as a second person)")
    def approve(self, request: HttpRequest, queryset: QuerySet[CutoverPlan]) -> None:
        for plan in queryset:
            try:
                approved = approve_plan(plan_id=plan.pk, approver=request.user)
            except DomainError as exc:
                self.message_user(request, f"{plan}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{plan.key} is now {approved.plan.mode} (was {approved.previous_mode})",
                )

    @action(description="Reject (back to draft)")
    def reject(self, request: HttpRequest, queryset: QuerySet[CutoverPlan]) -> None:
        for plan in queryset:
            try:
                reject_plan(plan_id=plan.pk, approver=request.user, note="rejected in the admin")
            except DomainError as exc:
                self.message_user(request, f"{plan}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{plan} sent back to draft")


def _json_options(kind: str) -> str:
    return json.dumps(LINE_OPTIONS if kind == "line" else BAR_OPTIONS)


@admin.register(LegacyHandoff)
class LegacyHandoffAdmin(ModelAdmin):
    list_display = ["order", "reason", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "reason"]
    search_fields = ["order__number", "order__external_id"]
    actions = ["revive"]
    readonly_fields = [
        "order", "reason", "status", "attempts", "next_attempt_at", "last_error", "sent_at",
        "payload",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @action(description="Send a dead handoff again")
    def revive(self, request: HttpRequest, queryset: QuerySet[LegacyHandoff]) -> None:
        for handoff in queryset:
            revived = revive_handoff(handoff_id=handoff.pk, actor=Actor.for_user(request.user))
            self.message_user(request, f"{revived.order}: {revived.status}")
