"""The order page of the console: orders and holds, read-only; holds are placed and released through
orders.services.holds, lines cancelled through orders.services.cancellation."""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    RangeDateFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm
from unfold.utils import parse_date_str

from fulfillment.admin import routing_panel_context
from oms.core.actors import Actor
from oms.core.admin_actions import ReadOnlyAdmin, dialog_action, plural, run_service_for_each
from oms.core.money import format_amount
from oms.events.redaction import Masker
from oms.events.selectors import events_for_stream
from ops.admin.order_reverse import PaymentTransactionInline, ReverseFlowActions
from ops.admin.timeline import order_trace_context
from orders.models import (
    Hold,
    HoldKind,
    HoldStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from orders.selectors import orders_for_staff
from orders.services.cancellation import CANCELLABLE, cancel_order_line
from orders.services.holds import place_hold, release_hold

MANUAL_HOLD_REASON = "Placed from admin"
RELEASE_NOTE = "Released from admin"
CANCEL_REASON = "Cancelled from admin"

ORDER_STATUS_COLOURS = {
    OrderStatus.CREATED: "info",
    OrderStatus.BACKORDERED: "warning",
    OrderStatus.ALLOCATED: "info",
    OrderStatus.RELEASED: "primary",
    OrderStatus.PARTIALLY_SHIPPED: "primary",
    OrderStatus.SHIPPED: "success",
    OrderStatus.DELIVERED: "success",
    OrderStatus.COMPLETED: "success",
    OrderStatus.CANCELLED: "danger",
}
PAYMENT_STATUS_COLOURS = {
    PaymentStatus.PENDING: "warning",
    PaymentStatus.AUTHORIZED: "info",
    PaymentStatus.PAID: "success",
    PaymentStatus.FAILED: "danger",
    PaymentStatus.REFUNDED: "primary",
}
HOLD_STATUS_COLOURS = {HoldStatus.ACTIVE: "warning", HoldStatus.RELEASED: "success"}


def _active_holds() -> Exists:
    """EXISTS (an active hold of the outer order): a per-row flag, not a read of holds.
    orders.selectors has no hold selector to build it from."""
    active = Hold.objects.filter(order=OuterRef("pk"), status=HoldStatus.ACTIVE)  # rule-ok
    return Exists(active)


def _staff_order_or_404(object_id: Any) -> Order:
    try:
        order = orders_for_staff().filter(pk=unquote(str(object_id))).first()
    except (ValueError, ValidationError):
        order = None
    if order is None:
        raise Http404("No such order.")
    return order


def _may_place_hold(request: HttpRequest) -> bool:
    return request.user.has_perm("orders.change_order")


def _may_release_hold(request: HttpRequest) -> bool:
    return request.user.has_perm("orders.change_hold")


# --- filters -------------------------------------------------------------------------------


class OnHoldFilter(admin.SimpleListFilter):
    title = "on hold"
    parameter_name = "on_hold"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "yes":
            return queryset.filter(_active_holds())
        if self.value() == "no":
            return queryset.filter(~_active_holds())
        return queryset


class PlacedDateRangeFilter(RangeDateFilter):
    """unfold's date range on a datetime field, with both ends inclusive (by calendar date)."""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        filters = {}
        for suffix, lookup in (("_from", "gte"), ("_to", "lte")):
            value = self.used_parameters.get(f"{self.parameter_name}{suffix}")
            if isinstance(value, str) and value:
                parsed = parse_date_str(value)
                if parsed is None:
                    return None
                filters[f"{self.parameter_name}__date__{lookup}"] = parsed
        try:
            return queryset.filter(**filters)
        except (ValueError, ValidationError):
            return None


# --- dialog forms (unfold detail actions: GET shows the dialog, POST runs the service) ------


class PlaceHoldForm(BaseDialogForm):
    reason = forms.CharField(max_length=500, initial=MANUAL_HOLD_REASON)


class ActiveHoldChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Hold) -> str:
        reason = f": {obj.reason}" if obj.reason else ""
        by = f" (by {obj.placed_by})" if obj.placed_by else ""
        return f"{obj.get_kind_display()}{reason}{by}"


class ReleaseHoldForm(BaseDialogForm):
    """Offers the order's active holds; a hold released meanwhile fails validation."""

    hold = ActiveHoldChoiceField(queryset=None, empty_label=None)
    note = forms.CharField(max_length=500, required=False, initial=RELEASE_NOTE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = _staff_order_or_404(self.object_id)
        active = order.holds.filter(status=HoldStatus.ACTIVE).order_by("id")
        self.fields["hold"].queryset = active
        if not active.exists():
            self.fields["hold"].help_text = "This order has no active hold."


class CancellableLineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrderLine) -> str:
        return f"#{obj.line_number} {obj.sku} × {obj.quantity} ({obj.get_status_display()})"


class CancelLineForm(BaseDialogForm):
    """Offers the lines not yet at a node (open, backordered, allocated); the service refuses
    a line whose fulfillment order was released meanwhile."""

    line = CancellableLineChoiceField(queryset=None, empty_label=None)
    reason = forms.CharField(max_length=200, initial=CANCEL_REASON)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = _staff_order_or_404(self.object_id)
        lines = order.lines.filter(status__in=CANCELLABLE).order_by("line_number")
        self.fields["line"].queryset = lines
        if not lines.exists():
            self.fields["line"].help_text = "No line of this order can be cancelled here."


# --- inlines ---------------------------------------------------------------------------------


class ReadOnlyInline(TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or ())

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "line_number",
        "sku",
        "name",
        "product",
        "quantity",
        "cancelled_quantity",
        "unit_price",
        "discount",
        "tax",
        "total",
        "status",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("product").order_by("line_number")


class HoldInline(ReadOnlyInline):
    model = Hold
    fields = (
        "kind",
        "status",
        "reason",
        "placed_by",
        "created_at",
        "released_by",
        "released_at",
        "release_note",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Hold]:
        return super().get_queryset(request).order_by("id")


# --- orders ----------------------------------------------------------------------------------


@admin.register(Order)
class OrderAdmin(ReverseFlowActions, ReadOnlyAdmin):
    list_display = (
        "number",
        "external_id",
        "channel",
        "status_label",
        "payment_status_label",
        "customer",
        "grand_total_display",
        "placed_at",
        "on_hold",
    )
    search_fields = ("number", "external_id", "customer_email", "customer_name")
    search_help_text = "Order number, external id, customer email or name."
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("channel", RelatedDropdownFilter),
        ("placed_at", PlacedDateRangeFilter),
        ("delivery_method", ChoicesDropdownFilter),
        OnHoldFilter,
    )
    list_filter_submit = True
    ordering = ("-placed_at", "-id")
    inlines = (OrderLineInline, HoldInline, PaymentTransactionInline)
    actions = ("place_manual_hold",)
    actions_detail = (
        "place_hold_detail",
        "release_hold_detail",
        "cancel_line_detail",
        *ReverseFlowActions.reverse_actions_detail,
    )
    change_form_outer_after_template = "admin/orders/order/event_timeline.html"
    change_form_template = "admin/orders/order/routing_panel.html"  # "Routing" after the timeline
    fieldsets = (
        (
            "Order",
            {
                "fields": (
                    ("number", "public_id"),
                    ("channel", "external_id"),
                    ("status", "placed_at"),
                    ("cancelled_at", "cancel_reason"),
                )
            },
        ),
        (
            "Payment and totals",
            {
                "fields": (
                    ("payment_status", "payment_method", "payment_reference"),
                    ("currency", "subtotal", "shipping_total"),
                    ("discount_total", "tax_total", "grand_total"),
                )
            },
        ),
        ("Customer", {"fields": (("customer_name", "customer_email", "customer_phone"),)}),
        (
            "Delivery",
            {
                "fields": (
                    ("delivery_method", "service_level", "pickup_node"),
                    "ship_name",
                    ("ship_line1", "ship_line2"),
                    ("ship_city", "ship_region", "ship_postal_code", "ship_country"),
                    ("ship_latitude", "ship_longitude"),
                )
            },
        ),
        ("Billing and notes", {"fields": ("billing_address", "notes")}),
        ("Record", {"fields": (("created_at", "updated_at"),)}),
    )

    # --- reads ---------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        queryset = (
            orders_for_staff()
            .select_related("channel", "pickup_node")
            .annotate(has_active_hold=_active_holds())
        )
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return [
            name
            for _title, options in self.fieldsets
            for row in options["fields"]
            for name in (row if isinstance(row, tuple) else (row,))
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Order | None = None,
    ) -> HttpResponse:
        context["show_event_timeline"] = obj is not None and request.user.has_perm(
            "events.view_event"
        )
        if context["show_event_timeline"]:
            masker = Masker.for_streams([obj.stream])
            context["order_events"] = [
                {
                    "event": event,
                    "payload": json.dumps(
                        masker.payload(event.stream, event.payload),
                        indent=2,
                        sort_keys=True,
                        cls=DjangoJSONEncoder,
                    ),
                }
                for event in events_for_stream(obj.stream)
            ]
        if obj is not None:
            context.update(routing_panel_context(request, obj))
            context.update(order_trace_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- action permissions (orders come from channels and change only through services) ---

    def has_place_hold_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_place_hold(request)

    def has_release_hold_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_release_hold(request)

    def has_cancel_line_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_place_hold(request)  # orders.change_order, like placing a hold

    # --- list columns --------------------------------------------------------------------

    @display(description="Status", ordering="status", label=ORDER_STATUS_COLOURS)
    def status_label(self, obj: Order) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Payment", ordering="payment_status", label=PAYMENT_STATUS_COLOURS)
    def payment_status_label(self, obj: Order) -> tuple[str, str]:
        return obj.payment_status, obj.get_payment_status_display()

    @display(description="Customer", ordering="customer_name", header=True)
    def customer(self, obj: Order) -> list[str]:
        return [obj.customer_name, obj.customer_email]

    @display(description="Grand total", ordering="grand_total")
    def grand_total_display(self, obj: Order) -> str:
        return f"{format_amount(obj.grand_total, obj.currency)} {obj.currency}"

    @display(description="On hold", boolean=True, ordering="has_active_hold")
    def on_hold(self, obj: Order) -> bool:
        return bool(getattr(obj, "has_active_hold", False))

    # --- actions (each calls a service; refusals become messages) -------------------------

    @action(description="Place manual hold", permissions=["place_hold"])
    def place_manual_hold(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.for_user(request.user)
        run_service_for_each(
            request,
            queryset,
            lambda order: place_hold(
                order_id=order.pk, kind=HoldKind.MANUAL, reason=MANUAL_HOLD_REASON, actor=actor
            ),
            success_message=lambda n: f"{plural(n, 'order')} on manual hold.",
        )

    @dialog_action(
        label="Place manual hold",
        permission="place_hold",
        icon="front_hand",
        form_class=PlaceHoldForm,
        explanation="Nothing ships while the order is on hold.",
        submit_text="Place hold",
    )
    def place_hold_detail(self, request: HttpRequest, form: PlaceHoldForm, order: Order) -> str:
        place_hold(
            order_id=order.pk,
            kind=HoldKind.MANUAL,
            reason=form.cleaned_data["reason"],
            actor=Actor.for_user(request.user),
        )
        return f"Order {order.number} is on manual hold."

    @dialog_action(
        label="Release hold",
        permission="release_hold",
        icon="play_arrow",
        form_class=ReleaseHoldForm,
        explanation="When the last active hold is released, fulfillment resumes.",
    )
    def release_hold_detail(self, request: HttpRequest, form: ReleaseHoldForm, order: Order) -> str:
        hold = form.cleaned_data["hold"]
        release_hold(
            order_id=order.pk,
            hold_id=hold.pk,
            actor=Actor.for_user(request.user),
            note=form.cleaned_data["note"],
        )
        return f"{hold.get_kind_display()} hold on {order.number} released."

    @dialog_action(
        label="Cancel line",
        permission="cancel_line",
        icon="block",
        form_class=CancelLineForm,
        explanation="Lines not yet at a node: their stock is released and they leave any "
        "fulfillment order still waiting for release.",
    )
    def cancel_line_detail(self, request: HttpRequest, form: CancelLineForm, order: Order) -> str:
        line = form.cleaned_data["line"]
        cancel_order_line(
            order_id=order.pk,
            line_id=line.pk,
            actor=Actor.for_user(request.user),
            reason=form.cleaned_data["reason"],
        )
        return f"Line {line.line_number} of {order.number} cancelled."


# --- holds: a work queue of holds across orders ----------------------------------------------


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "kind",
        "status_label",
        "reason",
        "placed_by",
        "created_at",
        "released_by",
        "released_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), ("kind", ChoicesDropdownFilter))
    list_filter_submit = True
    search_fields = ("order__number", "reason", "placed_by")
    search_help_text = "Order number, reason or who placed it."
    ordering = ("-created_at", "-id")
    actions = ("release_selected_holds",)
    fields = (
        "order",
        ("kind", "status"),
        "reason",
        ("placed_by", "created_at"),
        ("released_by", "released_at"),
        "release_note",
    )
    readonly_fields = (
        "order",
        "kind",
        "status",
        "reason",
        "placed_by",
        "created_at",
        "released_by",
        "released_at",
        "release_note",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Hold]:
        return super().get_queryset(request).select_related("order")

    def has_release_hold_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_release_hold(request)

    @display(description="Status", ordering="status", label=HOLD_STATUS_COLOURS)
    def status_label(self, obj: Hold) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @action(description="Release selected holds", permissions=["release_hold"])
    def release_selected_holds(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        actor = Actor.for_user(request.user)
        run_service_for_each(
            request,
            queryset,
            lambda hold: release_hold(
                order_id=hold.order_id, hold_id=hold.pk, actor=actor, note=RELEASE_NOTE
            ),
            success_message=lambda n: f"{plural(n, 'hold')} released.",
        )
