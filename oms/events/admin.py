"""The event log in the admin: a read-only list. Events are written by record_event() only;
the admin can neither add, change nor delete one (and the database refuses it anyway)."""

import json
from typing import Any

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.contrib.filters.admin import DropdownFilter
from unfold.decorators import display

from oms.core.admin_actions import ReadOnlyAdmin
from oms.events import registry
from oms.events.models import Event
from oms.events.redaction import mask_payload


class EventTypeFilter(DropdownFilter):
    """Event types from the catalogue, not a DISTINCT over the whole log."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t.name, t.name) for t in registry.all_types()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> QuerySet[Event]:
        if self.value():
            return queryset.filter(type=self.value())
        return queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("stream", "seq", "type", "actor", "occurred_at", "correlation_id")
    list_filter = (EventTypeFilter,)
    list_filter_submit = True
    search_fields = ("stream", "type", "correlation_id")
    search_help_text = "Stream (e.g. order:OMS-…), event type or correlation id."
    ordering = ("-id",)
    actions = None  # no bulk actions at all, so no "delete selected"
    show_full_result_count = False  # the log is large: skip the unfiltered COUNT(*)
    fields = (
        ("stream", "seq"),
        ("type", "schema_version"),
        ("event_id", "occurred_at"),
        ("actor_kind", "actor_id", "actor_label"),
        ("correlation_id", "causation_id"),
        "shown_payload",
    )
    readonly_fields = (
        "stream",
        "seq",
        "type",
        "schema_version",
        "event_id",
        "occurred_at",
        "actor_kind",
        "actor_id",
        "actor_label",
        "correlation_id",
        "causation_id",
        "shown_payload",
    )

    @display(description="Payload")
    def shown_payload(self, obj: Event) -> str:
        """Secrets hidden, erased personal data masked (oms/events/redaction.py)."""
        masked = mask_payload(obj.stream, obj.payload)
        return json.dumps(masked, indent=2, sort_keys=True, cls=DjangoJSONEncoder)

    @display(description="Actor", ordering="actor_label")
    def actor(self, obj: Event) -> str:
        return f"{obj.actor_kind}: {obj.actor_label}" if obj.actor_label else obj.actor_kind
