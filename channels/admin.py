"""Channels in the ops console: connections (platform, endpoint, credentials and webhook secret
written once and never shown again, toggles, mapping settings, health, test connection,
rotation) and the outbox of calls back to the platforms (send a dead call again). Every change
goes through channels/services/*; the admin only collects input."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminPasswordWidget

from channels.models import ChannelConnection, OutboundCall, OutboundStatus
from channels.services.health import channel_health, test_connection
from channels.services.outbound import retry_call
from channels.services.setup import create_channel, new_webhook_secret, rotate_secrets
from oms.core.actors import Actor
from oms.core.admin_actions import (
    HistoryModelAdmin,
    ReadOnlyAdmin,
    adopt_created,
    plural,
    run_service_for_each,
)


class ConnectionForm(forms.ModelForm):
    code = forms.SlugField(
        max_length=32,
        required=False,
        help_text="The channel's code, e.g. shopify-us (new channel).",
    )
    name = forms.CharField(max_length=100, required=False, help_text="Display name.")
    new_credentials = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="Credentials",
        help_text="Access token (Shopify, Magento, commercetools), consumer_key:consumer_secret "
        "(WooCommerce) or the LWA JSON (Amazon). Write-only: leave empty to keep the stored one.",
    )
    new_webhook_secret = forms.CharField(
        required=False,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        label="Webhook secret",
        help_text="The platform's signing secret. Write-only: leave empty to keep the stored one "
        "(or, for a new channel, to have one generated and shown once).",
    )

    class Meta:
        model = ChannelConnection
        fields = ("platform", "base_url", "inbound_enabled", "outbound_enabled", "settings")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not data.get("code"):
            self.add_error("code", "A new channel needs a code.")
        return data


@admin.register(ChannelConnection)
class ChannelConnectionAdmin(HistoryModelAdmin):
    form = ConnectionForm
    list_display = (
        "channel",
        "platform",
        "inbound_enabled",
        "outbound_enabled",
        "last_in_at",
        "last_out_at",
        "failures",
        "lag",
    )
    list_filter = ("platform", "inbound_enabled", "outbound_enabled")
    search_fields = ("channel__code", "channel__name", "base_url")
    list_select_related = ("channel",)
    readonly_fields = (
        "channel",
        "webhook_url",
        "secrets_set",
        "cursor",
        "last_in_at",
        "last_out_at",
    )
    actions = ("test_connection_action", "rotate_webhook_secret")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = [
            "base_url",
            "new_credentials",
            "new_webhook_secret",
            "inbound_enabled",
            "outbound_enabled",
            "settings",
        ]
        if obj is None:
            return ["code", "name", "platform", *editable]
        return [
            "channel",
            "platform",
            "webhook_url",
            "secrets_set",
            *editable,
            "cursor",
            "last_in_at",
            "last_out_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*self.readonly_fields, "platform") if obj is not None else ()

    @display(description="Webhook URL")
    def webhook_url(self, obj: ChannelConnection) -> str:
        return f"/webhooks/{obj.platform}/{obj.code}/"

    @display(description="Secrets")
    def secrets_set(self, obj: ChannelConnection) -> str:
        parts = [
            "credentials set" if obj.credentials else "no credentials",
            "webhook secret set" if obj.webhook_secret else "no webhook secret",
        ]
        return ", ".join(parts) + " (never shown again)"

    @display(description="Refused in / dead out")
    def failures(self, obj: ChannelConnection) -> str:
        h = channel_health(connection_id=obj.pk)[0]
        return f"{h.refused_in} / {h.dead_out}"

    @display(description="Calls waiting (oldest)")
    def lag(self, obj: ChannelConnection) -> str:
        h = channel_health(connection_id=obj.pk)[0]
        if not h.pending_out or h.lag is None:
            return "none"
        return f"{h.pending_out} ({int(h.lag.total_seconds() // 60)} min)"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            secret = data["new_webhook_secret"] or new_webhook_secret()
            created = create_channel(
                code=data["code"],
                name=data["name"],
                platform=data["platform"],
                base_url=data["base_url"],
                credentials=data["new_credentials"],
                webhook_secret=secret,
                settings=data["settings"],
            )
            adopt_created(obj, created)
            if not data["new_webhook_secret"]:
                messages.warning(
                    request,
                    f"Webhook secret for {created.code} (shown once, copy it into the platform "
                    f"now): {secret}",
                )
            return
        obj.save(
            update_fields=[
                "base_url",
                "inbound_enabled",
                "outbound_enabled",
                "settings",
                "updated_at",
            ]
        )
        if data["new_credentials"] or data["new_webhook_secret"]:
            rotate_secrets(
                connection_id=obj.pk,
                credentials=data["new_credentials"] or None,
                webhook_secret=data["new_webhook_secret"] or None,
            )
            messages.success(request, f"{obj.code}: new secrets stored (they are not shown again).")

    @action(description="Test connection", permissions=["change"])
    def test_connection_action(
        self, request: HttpRequest, queryset: QuerySet[ChannelConnection]
    ) -> None:
        run = run_service_for_each(request, queryset, lambda c: test_connection(connection_id=c.pk))
        for _connection, result in run.succeeded:
            messages.success(request, result)

    @action(description="Rotate the webhook secret", permissions=["change"])
    def rotate_webhook_secret(
        self, request: HttpRequest, queryset: QuerySet[ChannelConnection]
    ) -> None:
        """A new secret, shown once: paste it into the platform's webhook settings."""
        for connection in queryset:
            secret = new_webhook_secret()
            rotate_secrets(connection_id=connection.pk, webhook_secret=secret)
            messages.warning(
                request,
                f"New webhook secret for {connection.code} (shown once, copy it into the "
                f"platform now): {secret}",
            )


@admin.register(OutboundCall)
class OutboundCallAdmin(ReadOnlyAdmin):  # written only by channels/services/outbound.py
    list_display = (
        "id",
        "connection",
        "order",
        "action",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "action", "connection")
    search_fields = ("order__number", "order__external_id")
    list_select_related = ("connection__channel", "order")
    readonly_fields = (
        "connection",
        "order",
        "event",
        "action",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "response",
        "created_at",
        "sent_at",
    )
    fields = readonly_fields
    actions = ("send_again",)

    def has_retry_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @action(description="Send again (dead calls)", permissions=["retry"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundCall]) -> None:
        actor = Actor.for_user(request.user)
        run_service_for_each(
            request,
            queryset.filter(status=OutboundStatus.DEAD),
            lambda c: retry_call(call_id=c.pk, actor=actor),
            success_message=lambda n: f"{plural(n, 'call')} queued to send again.",
        )
