"""Customer service's reverse-flow actions on the order page: cancel the order, cancel a line or
some of its units, change the order (shipping address, service level, internal notes), and the
order's payment transactions. A mixin and an inline the order admin (ops/admin/orders.py)
registers, so the order page's own layout stays its module's.

Every dialog calls the one service the API calls (fulfillment/services/order_cancellation.py,
order_changes.py): units not yet at a node go at once; units at a node are asked back from the
node, which answers (confirm → cancelled, refuse → `order.cancel_refused`).
"""

from typing import Any

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from unfold.admin import TabularInline
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminIntegerFieldWidget

from fulfillment.services.order_cancellation import CancelOutcome, cancel_line_units, cancel_order
from fulfillment.services.order_changes import ChangeOutcome, change_order
from oms.core.actors import Actor
from oms.core.admin_actions import dialog_action, plural
from orders.models import LineStatus, Order, OrderLine, PaymentTransaction, ServiceLevel
from orders.selectors import orders_for_staff
from orders.services.changes import ChangeRequest, shipping_address_of


def _order(object_id: Any) -> Order:
    try:
        order = orders_for_staff().filter(pk=unquote(str(object_id))).first()
    except (ValueError, ValidationError):
        order = None
    if order is None:
        raise Http404("No such order.")
    return order


class CancelOrderForm(BaseDialogForm):
    reason = forms.CharField(
        max_length=200, help_text="Why: the customer sees nothing of it; the timeline does."
    )


class LiveLineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrderLine) -> str:
        left = obj.live_quantity
        cancelled = f", {obj.cancelled_quantity} cancelled" if obj.cancelled_quantity else ""
        status = obj.get_status_display()
        return f"#{obj.line_number} {obj.sku}: {left} of {obj.quantity}{cancelled} ({status})"


class CancelUnitsForm(BaseDialogForm):
    """Any live line; the service says how many units are left to cancel (shipped ones are
    not) and asks a node for units it holds."""

    line = LiveLineChoiceField(queryset=None, empty_label=None)
    quantity = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="Units to cancel. Empty: every unit not shipped.",
        widget=UnfoldAdminIntegerFieldWidget,  # a visible box, like the other inputs
    )
    reason = forms.CharField(max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = _order(self.object_id)
        lines = order.lines.exclude(status=LineStatus.CANCELLED).order_by("line_number")
        self.fields["line"].queryset = lines
        if not lines.exists():
            self.fields["line"].help_text = "Every line of this order is cancelled."


class ChangeOrderForm(BaseDialogForm):
    """Prefilled with the order as it is; only what differs changes."""

    ship_name = forms.CharField(label="Name", max_length=200, required=False)
    ship_line1 = forms.CharField(label="Address line 1", max_length=200, required=False)
    ship_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    ship_city = forms.CharField(label="City", max_length=100, required=False)
    ship_region = forms.CharField(label="Region", max_length=100, required=False)
    ship_postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    ship_country = forms.CharField(label="Country (ISO)", max_length=2, required=False)
    service_level = forms.ChoiceField(choices=ServiceLevel.choices)
    internal_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For customer service only; never sent to the channel or a node.",
    )
    reason = forms.CharField(max_length=200, help_text="Why, for the timeline.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = _order(self.object_id)
        self.is_shipping = bool(order.ship_line1)
        for name, value in shipping_address_of(order).items():
            self.fields[f"ship_{name}"].initial = value
            if not self.is_shipping:
                self.fields[f"ship_{name}"].disabled = True
        self.fields["service_level"].initial = order.service_level
        self.fields["internal_notes"].initial = order.internal_notes

    def change_request(self) -> ChangeRequest:
        data = self.cleaned_data
        address = (
            {
                name: data[f"ship_{name}"]
                for name in ("name", "line1", "line2", "city", "region", "postal_code", "country")
            }
            if self.is_shipping
            else None
        )
        return ChangeRequest(
            address=address,
            service_level=data["service_level"],
            internal_notes=data["internal_notes"],
        )


def cancel_message(outcome: CancelOutcome) -> str:
    parts = []
    cancelled = sum(c["quantity"] for c in outcome.cancelled)
    if cancelled:
        parts.append(f"{plural(cancelled, 'unit')} cancelled")
    for request in outcome.requested:
        parts.append(
            f"{plural(request['units'], 'unit')} asked back from {request['node']} "
            f"(request #{request['request']}); the node answers"
        )
    status = f" Order status: {outcome.status.replace('_', ' ')}." if outcome.status else ""
    return f"{outcome.order}: {'; '.join(parts)}.{status}"


def change_message(outcome: ChangeOutcome) -> str:
    if not outcome.changes and not outcome.requested:
        return f"{outcome.order}: nothing to change."
    parts = []
    if outcome.changes:
        names = ", ".join(name.replace("_", " ") for name in outcome.changes)
        parts.append(f"changed {names}")
    if outcome.rerouted:
        parts.append("routing runs again for the new address")
    for request in outcome.requested:
        parts.append(f"address change sent to {request['node']} (request #{request['request']})")
    return f"{outcome.order}: {'; '.join(parts)}."


class ReverseFlowActions:
    """Detail actions for OrderAdmin (add their names to `actions_detail`)."""

    reverse_actions_detail = ("cancel_order_detail", "cancel_units_detail", "change_order_detail")

    def has_cancel_order_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.change_order")

    def has_change_order_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.change_order")

    @dialog_action(
        label="Cancel order",
        permission="cancel_order",
        icon="cancel",
        form_class=CancelOrderForm,
        explanation="Everything not shipped. Units not yet at a node are cancelled now and "
        "their stock released; units at a node are asked back from it and cancelled when it "
        "confirms. An uncaptured payment is voided when nothing is left.",
        submit_text="Cancel the order",
    )
    def cancel_order_detail(self, request: HttpRequest, form: CancelOrderForm, order: Order) -> str:
        return cancel_message(
            cancel_order(
                order_id=order.pk,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        )

    @dialog_action(
        label="Cancel units",
        permission="cancel_order",
        icon="remove_shopping_cart",
        form_class=CancelUnitsForm,
        explanation="Some units of a line, or all of it. Shipped units cannot be cancelled "
        "(they come back as a return); units at a node are asked back from it.",
        submit_text="Cancel units",
    )
    def cancel_units_detail(self, request: HttpRequest, form: CancelUnitsForm, order: Order) -> str:
        return cancel_message(
            cancel_line_units(
                order_id=order.pk,
                line_number=form.cleaned_data["line"].line_number,
                quantity=form.cleaned_data["quantity"],
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        )

    @dialog_action(
        label="Change order",
        permission="change_order",
        icon="edit_location_alt",
        form_class=ChangeOrderForm,
        explanation="Before release everything applies at once and a new address routes the "
        "order again. After release the address goes to the node as a request (applied when "
        "it confirms) and the service level is fixed; notes can always change.",
        submit_text="Save changes",
    )
    def change_order_detail(self, request: HttpRequest, form: ChangeOrderForm, order: Order) -> str:
        return change_message(
            change_order(
                order_id=order.pk,
                change=form.change_request(),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        )


class PaymentTransactionInline(TabularInline):
    """The order's money, one row per provider call (orders/services/payments.py)."""

    model = PaymentTransaction
    verbose_name = "payment transaction"
    extra = 0
    max_num = 0
    can_delete = False
    fields = (
        "created_at",
        "kind",
        "amount",
        "currency",
        "status",
        "shipment_reference",
        "provider_reference",
        "error_code",
        "reason",
        "actor",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaymentTransaction]:
        return super().get_queryset(request).order_by("id")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.view_order")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
