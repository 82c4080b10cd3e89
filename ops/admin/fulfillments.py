"""Fulfillment orders and shipments in the console: read-only lists customer service and ops
search by fulfillment number, order number, tracking number or node; nodes change them only
through their feedback (fulfillment/services). The pickup code is never shown."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import display

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from oms.core.admin_actions import ReadOnlyAdmin, ReadOnlyInline
from ops.admin.order_page import short_time, tracking_url

FULFILLMENT_COLOURS = {
    FulfillmentStatus.PENDING: "warning",
    FulfillmentStatus.RELEASED: "info",
    FulfillmentStatus.ACCEPTED: "info",
    FulfillmentStatus.PICKING: "info",
    FulfillmentStatus.PACKED: "primary",
    FulfillmentStatus.READY_FOR_PICKUP: "primary",
    FulfillmentStatus.SHIPPED: "success",
    FulfillmentStatus.DELIVERED: "success",
    FulfillmentStatus.PICKED_UP: "success",
    FulfillmentStatus.REJECTED: "danger",
    FulfillmentStatus.CANCELLED: "danger",
    FulfillmentStatus.EXPIRED: "danger",
}
SHIPMENT_COLOURS = {
    ShipmentStatus.IN_TRANSIT: "info",
    ShipmentStatus.OUT_FOR_DELIVERY: "primary",
    ShipmentStatus.DELIVERED: "success",
    ShipmentStatus.EXCEPTION: "danger",
    ShipmentStatus.RETURNED: "warning",
}


def _order_link(site: str, order: Any) -> str:
    url = reverse(f"{site}:orders_order_change", args=[order.pk])
    return format_html('<a href="{}" class="text-primary-600">{}</a>', url, order.number)


class FulfillmentLineInline(ReadOnlyInline):
    model = FulfillmentOrderLine
    fields = ("order_line", "quantity", "picked_quantity", "shipped_quantity", "short_quantity")

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfillmentOrderLine]:
        return super().get_queryset(request).select_related("order_line")


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ("carrier", "service", "tracking_number", "status", "shipped_at", "delivered_at")


@admin.register(FulfillmentOrder)
class FulfillmentOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "order_link",
        "node_code",
        "status_label",
        "delivery_method",
        "ship_by_short",
        "released_short",
        "shipped_short",
    )
    list_display_links = ("number",)
    search_fields = ("number", "order__number", "node__code", "shipments__tracking_number")
    search_help_text = "Fulfillment number, order number, node code or tracking number."
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("node", RelatedDropdownFilter),
        ("delivery_method", ChoicesDropdownFilter),
    )
    list_filter_submit = True
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = (FulfillmentLineInline, ShipmentInline)
    fields = (
        ("number", "order", "node"),
        ("status", "delivery_method", "service_level"),
        ("ship_by", "released_at", "accepted_at"),
        ("packed_at", "shipped_at", "delivered_at"),
        ("ready_at", "picked_up_at", "pickup_expires_at"),
        ("closed_at", "close_reason"),
        ("node_reference", "release_attempts", "last_release_error"),
    )
    readonly_fields = tuple(name for row in fields for name in row)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfillmentOrder]:
        return super().get_queryset(request).select_related("order", "node")

    @display(description="Order", ordering="order__number")
    def order_link(self, obj: FulfillmentOrder) -> str:
        return _order_link(self.admin_site.name, obj.order)

    @display(description="Node", ordering="node__code")
    def node_code(self, obj: FulfillmentOrder) -> str:
        return obj.node.code

    @display(description="Ship by", ordering="ship_by")
    def ship_by_short(self, obj: FulfillmentOrder) -> str:
        return short_time(obj.ship_by)

    @display(description="Released", ordering="released_at")
    def released_short(self, obj: FulfillmentOrder) -> str:
        return short_time(obj.released_at)

    @display(description="Shipped", ordering="shipped_at")
    def shipped_short(self, obj: FulfillmentOrder) -> str:
        return short_time(obj.shipped_at)

    @display(description="Status", ordering="status", label=FULFILLMENT_COLOURS)
    def status_label(self, obj: FulfillmentOrder) -> tuple[str, str]:
        return obj.status, obj.get_status_display()


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ("occurred_at", "status", "description", "location", "source")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrackingEvent]:
        return super().get_queryset(request).order_by("-occurred_at", "-id")


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = (
        "tracking_number",
        "carrier",
        "service",
        "status_label",
        "fulfillment",
        "order_link",
        "shipped_short",
        "delivered_short",
        "last_scan",
    )
    list_display_links = ("tracking_number",)
    search_fields = ("tracking_number", "fulfillment__number", "fulfillment__order__number")
    search_help_text = "Tracking number, fulfillment number or order number."
    list_filter = (("status", ChoicesDropdownFilter), "carrier")
    list_filter_submit = True
    date_hierarchy = "shipped_at"
    ordering = ("-shipped_at", "-id")
    inlines = (TrackingEventInline,)
    fields = (
        ("tracking_number", "carrier", "service"),
        ("fulfillment", "status", "carrier_page"),
        ("shipped_at", "delivered_at", "last_event_at"),
        ("cost", "currency"),
    )
    readonly_fields = (
        "tracking_number",
        "carrier",
        "service",
        "fulfillment",
        "status",
        "carrier_page",
        "shipped_at",
        "delivered_at",
        "last_event_at",
        "cost",
        "currency",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shipment]:
        return super().get_queryset(request).select_related("fulfillment__order")

    @display(description="Order", ordering="fulfillment__order__number")
    def order_link(self, obj: Shipment) -> str:
        return _order_link(self.admin_site.name, obj.fulfillment.order)

    @display(description="Status", ordering="status", label=SHIPMENT_COLOURS)
    def status_label(self, obj: Shipment) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Shipped", ordering="shipped_at")
    def shipped_short(self, obj: Shipment) -> str:
        return short_time(obj.shipped_at)

    @display(description="Delivered", ordering="delivered_at")
    def delivered_short(self, obj: Shipment) -> str:
        return short_time(obj.delivered_at)

    @display(description="Last scan", ordering="last_event_at")
    def last_scan(self, obj: Shipment) -> str:
        return short_time(obj.last_event_at)

    @display(description="Carrier's tracking page")
    def carrier_page(self, obj: Shipment) -> str:
        url = tracking_url(obj, self.admin_site.name)
        if "://" not in url:
            return "No public tracking page for this carrier."
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)
