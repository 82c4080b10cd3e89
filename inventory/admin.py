"""Products, nodes and stock in the admin.

Products and nodes are master data, edited here with their history kept (simple_history: the
"History" button shows who changed what). Stock levels are read-only: counts arrive from the
nodes and reservations are made by orchestration, so a hand edit here would desynchronise them.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import display

from inventory.models import Node, Product, StockLevel
from oms.core.admin_actions import HistoryModelAdmin


@admin.register(Product)
class ProductAdmin(HistoryModelAdmin):
    list_display = ("sku", "name", "is_active", "weight_grams", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("sku", "name")
    ordering = ("sku",)
    fields = ("sku", "name", "is_active", "weight_grams", ("created_at", "updated_at"))
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return False  # order lines and stock point at it: deactivate instead


@admin.register(Node)
class NodeAdmin(HistoryModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "city",
        "region",
        "capability_list",
        "daily_capacity",
        "priority",
        "is_active",
    )
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        "is_active",
        "can_pickup",
        "can_ship_from_store",
        "fulfillment_region",
    )
    list_filter_submit = True
    search_fields = ("code", "name", "city", "postal_code")
    ordering = ("code",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        ("Identity", {"fields": (("code", "name"), ("kind", "is_active"))}),
        (
            "Address and coordinates",
            {
                "fields": (
                    ("address_line1", "address_line2"),
                    ("city", "region", "postal_code", "country"),
                    ("latitude", "longitude", "timezone"),
                )
            },
        ),
        (
            "Capabilities",
            {
                "fields": (
                    "can_ship",
                    "can_pickup",
                    "can_curbside",
                    "can_ship_from_store",
                    "can_accept_returns",
                )
            },
        ),
        (
            "Capacity and routing",
            {"fields": (("daily_capacity", "priority", "fulfillment_region"),)},
        ),
        ("Record", {"fields": (("created_at", "updated_at"),)}),
    )

    @display(description="Capabilities")
    def capability_list(self, obj: Node) -> str:
        return ", ".join(obj.capabilities) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Node | None = None) -> bool:
        return False  # stock and orders point at it: deactivate instead


@admin.register(StockLevel)
class StockLevelAdmin(ModelAdmin):
    list_display = (
        "node",
        "product",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "last_reported_at",
    )
    list_filter = (
        ("node__kind", ChoicesDropdownFilter),
        ("node", RelatedDropdownFilter),
    )
    list_filter_submit = True
    search_fields = ("product__sku",)
    search_help_text = "SKU."
    ordering = ("node__code", "product__sku")
    actions = None
    fields = (
        ("node", "product"),
        ("on_hand", "reserved", "safety_stock", "available"),
        ("last_reported_at", "updated_at"),
    )
    readonly_fields = (
        "node",
        "product",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "last_reported_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        return super().get_queryset(request).select_related("node", "product")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StockLevel | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StockLevel | None = None) -> bool:
        return False
