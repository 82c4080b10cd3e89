"""Idempotency keys in the admin: a read-only list, for answering "why did my retry get that
response?". Rows are written by oms/api/idempotency.py and expire on their own."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.contrib.filters.admin import ChoicesDropdownFilter

from oms.api.models import IdempotencyKey
from oms.core.admin_actions import ReadOnlyAdmin


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "key",
        "api_client",
        "method",
        "path",
        "status",
        "response_status",
        "created_at",
        "expires_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), "method")
    list_filter_submit = True
    search_fields = ("key", "path", "api_client__prefix")
    ordering = ("-created_at", "-id")
    actions = None
    fields = (
        ("api_client", "key"),
        ("method", "path"),
        ("status", "locked_until"),
        "fingerprint",
        ("response_status", "created_at", "expires_at"),
        "response_body",
    )
    readonly_fields = (
        "api_client",
        "key",
        "method",
        "path",
        "status",
        "locked_until",
        "fingerprint",
        "response_status",
        "created_at",
        "expires_at",
        "response_body",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdempotencyKey]:
        return super().get_queryset(request).select_related("api_client__channel")
