"""The order page of the console: orders and holds, read-only; holds are placed and released through
orders.services.holds, lines cancelled through orders.services.cancellation."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Exists, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.timezone import localtime
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
from ops.admin import order_page
from ops.admin.order_reverse import ReverseFlowActions
from orders.models import (
    OPEN_ORDER_STATUSES,
    Hold,
    HoldKind,
    HoldStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from orders.selectors import active_hold_exists, orders_for_staff
from orders.services.cancellation import CANCELLABLE, cancel_order_line
from orders.services.customer_service import add_order_note, resend_confirmation
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
    """EXISTS (an active hold of the outer order): a per-row flag, not a read of holds."""
    return active_hold_exists()


def _staff_order_or_404(object_id: Any) -> Order:
    try:
        order = orders_for_staff().filter(pk=unquote(str(object_id))).first()
    except (ValueError, ValidationError):
        order = None
    if order is None:
        raise Http404("No such order.")
    return order


def _order_or_none(obj: Any) -> Order | None:
    """The order an action is asked about: unfold passes the page's object id (a string), the
    admin an Order, a changelist nothing."""
    if obj is None or obj == "":
        return None
    if isinstance(obj, Order):
        return obj
    try:
        return _staff_order_or_404(obj)
    except Http404:
        return None


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


class AddNoteForm(BaseDialogForm):
    text = forms.CharField(label="Note", max_length=1_000, widget=forms.Textarea(attrs={"rows": 4}))


class ResendConfirmationForm(BaseDialogForm):
    reason = forms.CharField(
        label="Why", max_length=200, initial="Customer did not receive it", required=False
    )


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
        "placed",
        "hold_label",
    )
    # Order fields, and what customers quote: a tracking number, a fulfillment number (the
    # packing slip), a SKU, a phone number. The related lookups are EXISTS subqueries (one row
    # per order); on PostgreSQL trigram indexes serve them (ops migration 0007).
    search_fields = (
        "number",
        "external_id",
        "customer_email",
        "customer_name",
        "customer_phone",
        "fulfillment_orders__number",
        "fulfillment_orders__shipments__tracking_number",
        "lines__sku",
    )
    search_help_text = (
        "Order number, external id, customer email, name or phone, fulfillment number, "
        "tracking number or SKU."
    )
    date_hierarchy = "placed_at"
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("channel", RelatedDropdownFilter),
        ("placed_at", PlacedDateRangeFilter),
        ("delivery_method", ChoicesDropdownFilter),
        OnHoldFilter,
    )
    list_filter_submit = True
    ordering = ("-placed_at", "-id")
    actions = ("place_manual_hold",)
    # The page's action bar: one place for every action, grouped. Other modules add theirs
    # with register_order_action() (ops/admin/order_actions.py).
    actions_detail: list[Any] = []
    change_form_template = "admin/ops/order/change_form.html"
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
        if obj is not None:
            context.update(routing_panel_context(request, obj))
            context.update(self.page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def page_context(self, request: HttpRequest, order: Order) -> dict[str, Any]:
        site = self.admin_site.name
        # The order's own timeline is part of reading the order (finance reads it without
        # the event log, events.view_event, which is for customer service and ops).
        may_view_events = request.user.has_perm("orders.view_order")
        cases_url = ""
        may_view_cases = request.user.has_perm("ops.view_exceptioncase")
        if may_view_cases:
            cases_url = (
                reverse(f"{site}:ops_exceptioncase_changelist")
                + "?"
                + urlencode({"q": order.number, "status__exact": "open"})
            )
        return {
            "status_colour": ORDER_STATUS_COLOURS.get(order.status, ""),
            "payment_colour": PAYMENT_STATUS_COLOURS.get(order.payment_status, ""),
            "page": {
                "summary": order_page.summary(order),
                "lines": order_page.line_progress(order),
                "fulfillments": order_page.fulfillments(order, site),
                "panels": order_page.panels_for(request, order),
                "timeline": order_page.timeline(order) if may_view_events else None,
                "cases_url": cases_url,
                "may_view_cases": may_view_cases,
            },
        }

    # --- action permissions: the user's permission, and whether the action applies to the
    # order's state (unfold asks with the page's object id; a dialog's GET and POST ask too) --

    def has_place_hold_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not _may_place_hold(request):
            return False
        order = _order_or_none(obj)
        return order is None or order.status in OPEN_ORDER_STATUSES

    def has_release_hold_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not _may_release_hold(request):
            return False
        order = _order_or_none(obj)
        return order is None or order.holds.filter(status=HoldStatus.ACTIVE).exists()

    def has_add_note_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_place_hold(request)  # orders.change_order: customer service and ops

    def has_cancel_line_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not _may_place_hold(request):  # orders.change_order, like placing a hold
            return False
        order = _order_or_none(obj)
        return order is None or order.lines.filter(status__in=CANCELLABLE).exists()

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
        return order_page.money(obj.grand_total, obj.currency)

    @display(description="Placed", ordering="placed_at")
    def placed(self, obj: Order) -> str:
        return date_format(localtime(obj.placed_at), "M j, Y H:i")

    @display(description="Hold", ordering="has_active_hold", label={"on_hold": "warning"})
    def hold_label(self, obj: Order) -> tuple[str, str] | str:
        """An orange "On hold" where there is one; nothing otherwise (not a red ✕)."""
        if getattr(obj, "has_active_hold", False):
            return "on_hold", "On hold"
        return ""

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
        title="Cancel a line?",
        submit_text="Yes, cancel the line",
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

    @dialog_action(
        label="Add note",
        permission="add_note",
        icon="sticky_note_2",
        form_class=AddNoteForm,
        explanation="The note is kept on the order, dated and signed; the timeline shows who "
        "added one.",
        submit_text="Add note",
    )
    def add_note_detail(self, request: HttpRequest, form: AddNoteForm, order: Order) -> str:
        add_order_note(
            order_id=order.pk, text=form.cleaned_data["text"], actor=Actor.for_user(request.user)
        )
        return f"Note added to {order.number}."

    @dialog_action(
        label="Resend confirmation",
        permission="add_note",
        icon="forward_to_inbox",
        form_class=ResendConfirmationForm,
        explanation="Records order.confirmation_resent: the storefront's webhook sends the "
        "confirmation e-mail to the customer again.",
        submit_text="Yes, send it again",
    )
    def resend_confirmation_detail(
        self, request: HttpRequest, form: ResendConfirmationForm, order: Order
    ) -> str:
        resend_confirmation(
            order_id=order.pk,
            actor=Actor.for_user(request.user),
            reason=form.cleaned_data.get("reason", ""),
        )
        return f"Confirmation of {order.number} sent again (order.confirmation_resent)."


# --- the order page's action bar: one place, grouped; other modules register theirs ----------

# Group title → (icon, action names); an action whose permission (or the order's state) says
# no is not offered.
ORDER_ACTION_GROUPS: dict[str, tuple[str, list[str]]] = {
    "Hold": ("front_hand", []),
    "Cancel": ("block", []),
    "Change": ("edit", []),
    "Payments & refunds": ("payments", []),
    "Returns": ("assignment_return", []),
    "Notify": ("mail", []),
}


# The most used groups are buttons while they hold one or two actions; the rest are menus, so
# the bar keeps its width as modules add actions.
FLAT_GROUPS = ("Hold", "Cancel")


def register_order_action(group: str, name: str, *, icon: str = "more_horiz") -> None:
    """Offer OrderAdmin's dialog action `name` (a method made with dialog_action, set on
    OrderAdmin before the admin's URLs are built, i.e. at import of an admin module) in the
    action bar's `group`. Used for this module's actions and, after the reverse flow lands, its
    cancel-order, address change, refund, appeasement, return and exchange dialogs."""
    _icon, names = ORDER_ACTION_GROUPS.setdefault(group, (icon, []))
    if name not in names:
        names.append(name)
    navigation: list[Any] = []
    for title, (group_icon, members) in ORDER_ACTION_GROUPS.items():
        if title in FLAT_GROUPS and len(members) <= 2:
            navigation.extend(members)
        else:
            navigation.append({"title": title, "icon": group_icon, "items": list(members)})
    OrderAdmin.actions_detail = navigation


register_order_action("Hold", "place_hold_detail")
register_order_action("Hold", "release_hold_detail")
register_order_action("Cancel", "cancel_order_detail")
register_order_action("Cancel", "cancel_units_detail")
register_order_action("Cancel", "cancel_line_detail")
register_order_action("Change", "change_order_detail")
register_order_action("Change", "add_note_detail")
register_order_action("Notify", "resend_confirmation_detail")


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
