"""Webhooks in the ops console: subscriptions (secret shown once on create, test message,
replay from a time or for one order) and deliveries (status, attempts, retry now). Every change
goes through webhooks/*; the admin only collects input."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from unfold.admin import TabularInline
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminTextInputWidget

from integrations.models import (
    DeliveryReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.core.admin_actions import (
    HistoryModelAdmin,
    ReadOnlyAdmin,
    plural,
    redirect_after_action,
    run_service_for_each,
)
from oms.core.errors import DomainError
from webhooks import replay
from webhooks.ssrf import check_url
from webhooks.subscriptions import (
    clean_event_types,
    create_subscription,
    delete_subscription,
    event_type_choices,
    update_subscription,
)
from webhooks.subscriptions import rotate_secret as rotate_subscription_secret


class SubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=event_type_choices,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="Pick from the event catalogue: * for everything, a family such as "
        "fulfillment.*, or exact types (ctrl/cmd-click for several).",
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "event_types", "channel", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["event_types"] = list(self.instance.event_types or [])

    def clean_event_types(self) -> list[str]:
        raw = [p.strip() for p in self.cleaned_data["event_types"] if p.strip()]
        try:
            return clean_event_types(raw)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            check_url(url)
        except DomainError as exc:  # the API's code, and the reason under the same key
            raise forms.ValidationError(
                exc.detail.replace("%", "%%"), code=exc.code, params=exc.extra
            ) from exc
        return url


class ReplaySinceForm(BaseDialogForm):
    since = forms.DateTimeField(
        help_text="Every matching event at or after this time is delivered again "
        f"(YYYY-MM-DD HH:MM, {settings.TIME_ZONE}).",
        widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "2026-11-01 12:00"}),
    )


class ReplayOrderForm(BaseDialogForm):
    order_number = forms.CharField(
        max_length=20,
        help_text="e.g. OMS-7K2M-Q9XD",
        widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "OMS-XXXX-XXXX"}),
    )


# Replay refusals about what was typed into the dialog: shown in the dialog, under the field.
# Any other refusal (e.g. an inactive subscription) is a message on the subscription's page.
_DIALOG_FIELD_FOR_CODE = {
    "replay_start_in_future": "since",
    "replay_too_large": "since",
    "order_not_found": "order_number",
    "order_not_in_channel": "order_number",
}


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(HistoryModelAdmin):
    form = SubscriptionForm
    list_display = ("name", "url", "types", "channel", "is_active", "disabled_reason")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = (
        "disabled_reason",
        "previous_secret_expires_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    actions = ("send_test", "rotate_secret")
    actions_detail = ("replay_since_detail", "replay_order_detail")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["name", "url", "event_types", "channel"]
        return ["name", "url", "event_types", "channel", "is_active", *self.readonly_fields]

    @display(description="Event types")
    def types(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.event_types or [])

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        channel = data.get("channel")
        if not change:
            created = create_subscription(
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                channel_code=channel.code if channel else None,
                created_by=request.user,
            )
            obj.pk = created.pk
            messages.warning(
                request,
                f"Signing secret for {created.name} (shown once, copy it now): {created.secret}",
            )
            return
        update_subscription(
            obj.pk,
            name=data["name"],
            url=data["url"],
            event_types=data["event_types"],
            channel_code=channel.code if channel else None,
            is_active=data["is_active"],
        )

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        delete_subscription(obj.pk)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]
    ) -> None:
        for pk in queryset.values_list("pk", flat=True):
            delete_subscription(pk)

    @action(description="Send a test message", permissions=["change"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        run = run_service_for_each(request, queryset, lambda s: replay.send_test_message(s.pk))
        for sub, result in run.succeeded:
            messages.success(request, f"{sub}: {result}")

    @action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        """A new secret, shown once; the old one signs too until the overlap ends."""
        run = run_service_for_each(request, queryset, lambda s: rotate_subscription_secret(s.pk))
        for sub, rotated in run.succeeded:
            until = rotated.previous_secret_expires_at
            messages.warning(
                request,
                f"New signing secret for {sub} (shown once, copy it now): {rotated.secret}. "
                f"Deliveries carry the old and the new signature until {until:%Y-%m-%d %H:%M} UTC.",
            )

    @action(
        description="Replay from…",
        icon="history",
        permissions=["change"],
        dialog={
            "title": "Replay from a point in time",
            "description": "New deliveries of every matching event since then. Consumers "
            "dedupe on the event id in the body.",
            "form_class": ReplaySinceForm,
            "form_submit_text": "Replay",
        },
    )
    def replay_since_detail(
        self, request: HttpRequest, form: ReplaySinceForm, object_id: str
    ) -> HttpResponse:
        since = form.cleaned_data["since"]
        return self._replay(
            request,
            form,
            object_id,
            self.replay_since_detail.dialog,
            lambda pk: replay.replay_since(pk, since),
        )

    @action(
        description="Replay one order's stream",
        icon="replay",
        permissions=["change"],
        dialog={
            "title": "Replay one order's events",
            "form_class": ReplayOrderForm,
            "form_submit_text": "Replay",
        },
    )
    def replay_order_detail(
        self, request: HttpRequest, form: ReplayOrderForm, object_id: str
    ) -> HttpResponse:
        number = form.cleaned_data["order_number"]
        return self._replay(
            request,
            form,
            object_id,
            self.replay_order_detail.dialog,
            lambda pk: replay.replay_order_stream(pk, number),
        )

    def _replay(
        self,
        request: HttpRequest,
        form: BaseDialogForm,
        object_id: str,
        dialog: dict[str, Any],
        run: Callable[[int], int],
    ) -> HttpResponse:
        """Run a replay service; a refusal of the typed input goes back into the dialog (as
        unfold shows an invalid form), any other refusal is a message on the subscription."""
        sub = self._get(request, object_id)
        try:
            created = run(sub.pk)
        except DomainError as exc:
            field = _DIALOG_FIELD_FOR_CODE.get(exc.code)
            if field in form.fields:
                form.add_error(field, exc.detail)
                context = {
                    "dialog": dialog,
                    "form": form,
                    "form_submit_text": dialog.get("form_submit_text", ""),
                }
                return render(request, "unfold/helpers/dialog.html", context)
            messages.error(request, f"{sub}: {exc.detail}")
            change = reverse(
                f"{self.admin_site.name}:integrations_webhooksubscription_change", args=[sub.pk]
            )
            return redirect_after_action(request, change)
        messages.success(
            request,
            f"{sub}: replay queued, {plural(created, 'new delivery', 'new deliveries')}.",
        )
        url = (
            reverse(f"{self.admin_site.name}:integrations_webhookdelivery_changelist")
            + f"?subscription__id__exact={sub.pk}&reason__exact={DeliveryReason.REPLAY}"
        )
        return redirect_after_action(request, url)

    def _get(self, request: HttpRequest, object_id: str) -> WebhookSubscription:
        sub = self.get_object(request, unquote(object_id))
        if sub is None:
            raise Http404("No such subscription.")
        return sub


class AttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("at", "status_code", "duration_ms", "error", "response_body")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):  # written only by webhooks/*
    list_display = (
        "webhook_id",
        "subscription",
        "event_type",
        "reason",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "reason", "subscription")
    search_fields = ("webhook_id", "event__stream", "event__event_id")
    list_select_related = ("subscription", "event")
    readonly_fields = (
        "webhook_id",
        "subscription",
        "event",
        "reason",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    )
    fields = readonly_fields
    inlines = (AttemptInline,)
    actions = ("retry_now",)

    @display(description="Event")
    def event_type(self, obj: WebhookDelivery) -> str:
        return f"{obj.event.type} ({obj.event.stream})"

    def has_retry_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @action(description="Retry now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        run_service_for_each(
            request,
            queryset,
            lambda d: replay.retry_now(d.pk),
            success_message=lambda n: f"{plural(n, 'delivery', 'deliveries')} queued to send now.",
        )
