"""The ERP outbox in the console (finance reads it; ops sends a dead document again). Written
only by erp/services.py; the admin shows it and calls `retry_document()`."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.timezone import localtime
from unfold.decorators import action, display

from erp.models import DocumentStatus, ErpDocument
from erp.services import retry_document
from oms.core.actors import Actor
from oms.core.admin_actions import ReadOnlyAdmin, plural, run_service_for_each
from oms.core.money import format_amount


@admin.register(ErpDocument)
class ErpDocumentAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "order",
        "money",
        "format",
        "status_badge",
        "attempts",
        "sent",
        "created",
    )
    list_filter = ("status", "kind", "format", "currency")
    search_fields = ("number", "reference", "order__number", "order__external_id")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    fields = (
        ("number", "kind", "status"),
        ("order", "reference", "payment_transaction_id"),
        ("money", "tax_money", "format"),
        ("attempts", "next_attempt_at", "last_status_code"),
        "last_error",
        ("target", "sent_at", "created_at"),
        "caused_by",
        "body",
        "response",
    )
    readonly_fields = tuple(
        name for row in fields for name in (row if isinstance(row, tuple) else (row,))
    )
    actions = ("send_again",)

    @display(description="amount", ordering="amount")
    def money(self, obj: ErpDocument) -> str:
        return f"{format_amount(obj.amount, obj.currency)} {obj.currency}"

    @display(description="caused by")
    def caused_by(self, obj: ErpDocument) -> str:
        """The event it documents, as text: finance has no event log to link to."""
        event = obj.event
        return f"{event.type} on {event.stream} (#{event.seq})" if event is not None else "—"

    @display(description="tax", ordering="tax")
    def tax_money(self, obj: ErpDocument) -> str:
        return f"{format_amount(obj.tax, obj.currency)} {obj.currency}"

    @display(description="sent", ordering="sent_at")
    def sent(self, obj: ErpDocument) -> str:
        return date_format(localtime(obj.sent_at), "M j, H:i") if obj.sent_at else "—"

    @display(description="created", ordering="created_at")
    def created(self, obj: ErpDocument) -> str:
        return date_format(localtime(obj.created_at), "M j, H:i")

    @display(
        description="status",
        ordering="status",
        label={"pending": "warning", "sent": "success", "dead": "danger"},
    )
    def status_badge(self, obj: ErpDocument) -> str:
        return obj.status

    def has_retry_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("erp.change_erpdocument")

    @action(description="Send again (dead documents)", permissions=["retry"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[ErpDocument]) -> None:
        actor = Actor.for_user(request.user)
        run_service_for_each(
            request,
            queryset.filter(status=DocumentStatus.DEAD),
            lambda d: retry_document(document_id=d.pk, actor=actor),
            success_message=lambda n: f"{plural(n, 'document')} queued to send again.",
        )
