"""The inbound message log in the ops console: every message a node, carrier or file sent,
with its outcome, attempts and error; failed and dead ones can be re-processed after a fix
(integrations/inbound.py does the work; the admin only asks)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from integrations.inbound import reprocess_message
from integrations.models import InboundMessage, InboundStatus
from oms.core.actors import Actor
from oms.core.admin_actions import plural, redirect_after_action, run_service_for_each

STATUS_COLOURS = {
    InboundStatus.RECEIVED: "info",
    InboundStatus.PROCESSED: "success",
    InboundStatus.FAILED: "warning",
    InboundStatus.DEAD: "danger",
}


@admin.register(InboundMessage)
class InboundMessageAdmin(ModelAdmin):
    list_display = (
        "received_at",
        "source",
        "message_id",
        "kind",
        "subject",
        "status_label",
        "attempts",
        "error_code",
        "next_attempt_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), "kind", "source")
    list_filter_submit = True
    search_fields = ("message_id", "subject", "source", "correlation_id")
    search_help_text = "Message id, fulfillment number, source or correlation id."
    date_hierarchy = "received_at"
    fields = (
        ("source", "message_id"),
        ("kind", "subject"),
        ("status", "attempts", "next_attempt_at"),
        ("error_code", "error"),
        ("received_at", "processed_at", "correlation_id"),
        "payload",
        "result",
    )
    readonly_fields = tuple(
        name for row in fields for name in (row if isinstance(row, tuple) else (row,))
    )
    actions = ("reprocess_selected",)
    actions_detail = ("reprocess_detail",)

    @display(description="Status", label=STATUS_COLOURS)
    def status_label(self, obj: InboundMessage) -> str:
        return obj.status

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _reprocess(self, request: HttpRequest, messages_: Any) -> None:
        actor = Actor.for_user(request.user)
        run_service_for_each(
            request,
            messages_,
            lambda m: reprocess_message(message_id=m.pk, actor=actor),
            success_message=lambda n: f"{plural(n, 'message')} re-processed.",
        )

    @action(description="Re-process (selected)", permissions=["change"])
    def reprocess_selected(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        self._reprocess(request, queryset.exclude(status=InboundStatus.PROCESSED))

    @action(description="Re-process", permissions=["change"], icon="replay")
    def reprocess_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        message = self.get_object(request, object_id)
        if message is not None:
            self._reprocess(request, [message])
        url = reverse(
            f"{self.admin_site.name}:integrations_inboundmessage_change", args=[object_id]
        )
        return redirect_after_action(request, url)
