"""Channels and the API clients that speak for them.

An API client is created through orders.services.api_clients.create_api_client (the key is shown
once, in a message) and revoked through revoke_api_client; its page is otherwise read-only and
nothing in the admin can show or set a key hash.
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import action, display

from oms.core.admin_actions import (
    HistoryModelAdmin,
    adopt_created,
    dialog_action,
    plural,
    run_service_for_each,
)
from orders.models import ApiClient, Channel
from orders.services.api_clients import create_api_client, revoke_api_client


@admin.register(Channel)
class ChannelAdmin(HistoryModelAdmin):
    list_display = ("code", "name", "default_currency", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("code",)
    fields = ("code", "name", "default_currency", "is_active", ("created_at", "updated_at"))
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Channel | None = None) -> bool:
        return False  # orders and API clients point at it: deactivate instead


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> QuerySet:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiClient)
class ApiClientAdmin(HistoryModelAdmin):
    list_display = (
        "name",
        "prefix",
        "channel",
        "state_label",
        "revoked_at",
        "last_used_at",
        "created_at",
    )
    list_filter = (RevokedFilter, ("channel", RelatedDropdownFilter))
    list_filter_submit = True
    search_fields = ("name", "prefix", "channel__code")
    ordering = ("channel__code", "name")
    actions = ("revoke_selected",)
    actions_detail = ("revoke_detail",)
    # Adding asks only for what create_api_client needs; everything else is set by it.
    add_fieldsets = ((None, {"fields": ("name", "channel")}),)
    fieldsets = (
        (None, {"fields": ("name", ("channel", "prefix"))}),
        ("Usage", {"fields": (("created_at", "last_used_at", "revoked_at"),)}),
    )
    # key_hash is in no fieldset and no list: it is never shown nor editable.
    change_fields = ("name", "channel", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        return super().get_queryset(request).select_related("channel")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> Any:
        return self.change_fields if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: ApiClient | None = None) -> bool:
        return False  # the page is read-only; revoke is the only change, through the service

    def has_delete_permission(self, request: HttpRequest, obj: ApiClient | None = None) -> bool:
        return False  # revoke instead: the row keeps its idempotency keys and history

    def has_revoke_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.change_apiclient")

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        """Adding goes through create_api_client(); the admin then logs and redirects to the
        row the service created. The plaintext key is shown once and never stored."""
        if change:
            raise PermissionDenied
        issued = create_api_client(channel_code=obj.channel.code, name=obj.name)
        adopt_created(obj, issued.client)
        self.message_user(
            request,
            f"API key for {issued.client}: {issued.key} — copy it now, it is shown only once "
            "and cannot be recovered.",
            level=messages.WARNING,
        )

    @display(description="State", label={"active": "success", "revoked": "danger"})
    def state_label(self, obj: ApiClient) -> tuple[str, str]:
        return ("active", "Active") if obj.is_active else ("revoked", "Revoked")

    @action(description="Revoke selected API clients", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        run_service_for_each(
            request,
            queryset,
            lambda client: revoke_api_client(client_id=client.pk),
            success_message=lambda n: f"{plural(n, 'API client')} revoked.",
        )

    @dialog_action(
        label="Revoke",
        permission="revoke",
        icon="block",
        title="Revoke this API client?",
        explanation="Its key stops working at once. This cannot be undone.",
    )
    def revoke_detail(self, request: HttpRequest, form: Any, client: ApiClient) -> str:
        revoke_api_client(client_id=client.pk)
        return f"{client} revoked."
