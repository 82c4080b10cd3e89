"""Returns in the console: customer service opens, authorizes, receives, inspects and refunds
returns, and gives goodwill refunds; finance retries refunds the provider declined; ops add
return policy versions. Every button is a dialog that calls one service (returns/services/);
the pages themselves are read-only."""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display
from unfold.forms import BaseDialogForm

from inventory.models import Node
from oms.core.actors import Actor
from oms.core.admin_actions import ReadOnlyAdmin, ReadOnlyInline, adopt_created, dialog_action
from oms.core.errors import DomainError, InvalidInput
from oms.core.money import format_amount
from oms.core.returns_desk import inspection_start
from orders.payments.messages import describe_payment_error
from orders.selectors import orders_for_staff
from returns.models import (
    CANCELLABLE_STATUSES,
    RECEIVABLE_STATUSES,
    AppeasementReason,
    Condition,
    Disposition,
    Exchange,
    ExchangeKind,
    ReasonCode,
    Refund,
    RefundKind,
    RefundStatus,
    Return,
    ReturnLine,
    ReturnPolicy,
    ReturnSource,
    ReturnStatus,
)
from returns.policy import RequestedLine, appeasement_roles_of, create_return_policy
from returns.refunds import quote_return_refund
from returns.services.receipt import inspect_return, receive_return
from returns.services.refunds import (
    REFUNDABLE_AFTER_RECEIPT,
    REFUNDABLE_BEFORE_RECEIPT,
    appease,
    refund_return,
    retry_refund,
)
from returns.services.requests import (
    ReturnRequest,
    authorize_return,
    cancel_return,
    reject_return,
    request_return,
)

RETURN_STATUS_COLOURS = {
    ReturnStatus.REQUESTED: "warning",
    ReturnStatus.AUTHORIZED: "info",
    ReturnStatus.IN_TRANSIT: "info",
    ReturnStatus.RECEIVED: "primary",
    ReturnStatus.INSPECTED: "primary",
    ReturnStatus.CLOSED: "success",
    ReturnStatus.REJECTED: "danger",
    ReturnStatus.CANCELLED: "danger",
}
REFUND_STATUS_COLOURS = {
    RefundStatus.PENDING: "warning",
    RefundStatus.SUCCEEDED: "success",
    RefundStatus.FAILED: "danger",
}


def _staff_return_or_404(object_id: Any) -> Return:
    try:
        rma = Return.objects.select_related("order").filter(pk=unquote(str(object_id))).first()
    except (ValueError, ValidationError):
        rma = None
    if rma is None:
        raise Http404("No such return.")
    return rma


def _lines(rma: Return) -> list[ReturnLine]:
    return list(
        ReturnLine.objects.filter(rma=rma)
        .select_related("order_line")
        .order_by("order_line__line_number")
    )


class _FormRefused(Exception):
    """A service refused what a create form asked: the form is shown again with its words."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RefusalFormMixin(forms.Form):
    """The second rendering of a refused create form carries the refusal as a form error."""

    refusal: str | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.refusal:
            raise forms.ValidationError(self.refusal)
        return cleaned


class ServiceCreateAdmin(ReadOnlyAdmin):
    """An admin whose add form calls a service in save_model (through `adopt_created`) and
    shows the service's refusal on the form with what the person typed."""

    create_form: type[forms.ModelForm]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            refusal = getattr(request, "_returns_refusal", None)
            kwargs["form"] = type(
                self.create_form.__name__, (self.create_form,), {"refusal": refusal}
            )
        return super().get_form(request, obj, **kwargs)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _FormRefused as refused:  # rolled back; render the form again with the reason
            setattr(request, "_returns_refusal", refused.detail)  # noqa: B010 - our own attribute
            return super().changeform_view(request, object_id, form_url, extra_context)


# --- dialogs -------------------------------------------------------------------------------------


class ReasonForm(BaseDialogForm):
    reason = forms.CharField(max_length=300)


class ReceiveForm(BaseDialogForm):
    """Where it arrived and how many units of each line came back (default: all)."""

    node = forms.ModelChoiceField(queryset=None, empty_label=None, label="Received at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rma = _staff_return_or_404(self.object_id)
        nodes = Node.objects.filter(can_accept_returns=True, is_active=True).order_by("name")
        node_field = self.fields["node"]
        if isinstance(node_field, forms.ModelChoiceField):
            node_field.queryset = nodes
        self.fields["node"].initial = rma.return_node_id
        for line in _lines(rma):
            ol = line.order_line
            self.fields[f"line_{ol.line_number}"] = forms.IntegerField(
                label=f"#{ol.line_number} {ol.sku} (expected {line.quantity})",
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
            )

    def received(self) -> dict[int, int]:
        return {
            int(name.removeprefix("line_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("line_")
        }


class InspectForm(BaseDialogForm):
    """A disposition for every unit received, per line (default: all back on sale, but the units
    the node reported damaged)."""

    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rma = _staff_return_or_404(self.object_id)
        for line in _lines(rma):
            ol = line.order_line
            initial = inspection_start(line.received_quantity, line.reported_damaged_quantity)
            damaged = (
                f", {line.reported_damaged_quantity} reported damaged by the node"
                if line.reported_damaged_quantity
                else ""
            )
            for disposition, label in Disposition.choices:
                self.fields[f"line_{ol.line_number}_{disposition}"] = forms.IntegerField(
                    label=f"#{ol.line_number} {ol.sku} ({line.received_quantity} received"
                    f"{damaged}): {label}",
                    min_value=0,
                    max_value=line.received_quantity,
                    initial=initial.get(disposition, 0),
                )

    def dispositions(self) -> dict[int, dict[str, int]]:
        result: dict[int, dict[str, int]] = {}
        for name, value in self.cleaned_data.items():
            if name.startswith("line_") and value:
                number, disposition = name.removeprefix("line_").split("_", 1)
                result.setdefault(int(number), {})[disposition] = value
        return result


class RefundForm(BaseDialogForm):
    """Shows what the refund will be, line by line, before it is sent."""

    confirm = forms.BooleanField(required=True, label="Send this refund to the payment provider")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rma = _staff_return_or_404(self.object_id)
        quote = quote_return_refund(rma)
        c = quote.currency
        parts = [
            f"Merchandise {format_amount(quote.merchandise, c)}",
            f"tax {format_amount(quote.tax, c)}",
            f"shipping {format_amount(quote.shipping, c)}",
            f"− restocking fee {format_amount(quote.restocking_fee, c)}",
            f"− label fee {format_amount(quote.label_fee, c)}",
            f"− already refunded {format_amount(quote.already_refunded, c)}",
        ]
        self.fields["confirm"].help_text = (
            f"{', '.join(parts)} = {format_amount(quote.due, c)} {c} due "
            "(never more than is left of the capture)."
        )


# --- inlines -------------------------------------------------------------------------------------


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = (
        "order_line",
        "quantity",
        "reason_code",
        "condition_reported",
        "received_quantity",
        "reported_damaged_quantity",
        "restock_quantity",
        "damaged_quantity",
        "vendor_return_quantity",
        "destroy_quantity",
    )


def refund_reason_label(refund: Refund) -> str:
    """The refund's reason in words: a return reason or an appeasement reason."""
    choices = ReasonCode if refund.kind == RefundKind.RETURN else AppeasementReason
    labels = dict(choices.choices)
    return str(labels.get(refund.reason_code, refund.reason_code))


def refund_problem(refund: Refund) -> str:
    """Why the refund failed (or waits for the provider), in words; "" when nothing went wrong."""
    return describe_payment_error(refund.error_code, refund.error_message)


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("kind", "status", "amount_display", "reason", "problem", "refunded_at")

    @display(description="Amount")
    def amount_display(self, obj: Refund) -> str:
        return f"{format_amount(obj.amount, obj.currency)} {obj.currency}"

    @display(description="Reason")
    def reason(self, obj: Refund) -> str:
        return refund_reason_label(obj)

    @display(description="Problem")
    def problem(self, obj: Refund) -> str:
        return refund_problem(obj) or "–"


class ExchangeInline(ReadOnlyInline):
    model = Exchange
    fields = ("kind", "status", "replacement_order", "value", "currency", "due_at", "charged_at")


# --- returns -------------------------------------------------------------------------------------


class ReturnCreateForm(RefusalFormMixin, forms.ModelForm):
    """Customer service opens a return for an order: which lines, how many, why."""

    order_number = forms.CharField(max_length=20, help_text="OMS-XXXX-XXXX")
    lines = forms.CharField(
        max_length=200,
        help_text="Line number × quantity, comma-separated, e.g. '1x2, 3x1'.",
    )
    reason_code = forms.ChoiceField(choices=ReasonCode.choices)
    condition = forms.ChoiceField(choices=Condition.choices, initial=Condition.UNKNOWN)
    exchange = forms.ChoiceField(choices=ExchangeKind.choices, required=False)
    authorize_now = forms.BooleanField(required=False, initial=True)
    note = forms.CharField(max_length=500, required=False)

    class Meta:
        model = Return
        fields: list[str] = []

    def clean_lines(self) -> list[tuple[int, int]]:
        parsed = []
        for part in self.cleaned_data["lines"].replace(" ", "").split(","):
            if not part:
                continue
            number, _, quantity = part.lower().partition("x")
            if not number.isdigit() or not (quantity or "1").isdigit():
                raise forms.ValidationError(f"{part!r}: write line×quantity, e.g. 1x2.")
            parsed.append((int(number), int(quantity or "1")))
        if not parsed:
            raise forms.ValidationError("Name at least one line.")
        return parsed


@admin.register(Return)
class ReturnAdmin(ServiceCreateAdmin):
    create_form = ReturnCreateForm
    list_display = (
        "number",
        "order",
        "status_label",
        "source",
        "exchange_kind",
        "return_node",
        "received_node",
        "created_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), ("source", ChoicesDropdownFilter))
    list_filter_submit = True
    search_fields = ("number", "order__number", "order__customer_email", "tracking_number")
    search_help_text = "RMA number, order number, customer email or return tracking number."
    ordering = ("-created_at", "-id")
    inlines = (ReturnLineInline, RefundInline, ExchangeInline)
    actions_detail = (
        "authorize_detail",
        "reject_detail",
        "receive_detail",
        "inspect_detail",
        "refund_detail",
        "cancel_detail",
    )
    readonly_fields = (
        "number",
        "order",
        "status",
        "source",
        "policy",
        "exchange_kind",
        "customer_note",
        "return_node",
        "received_node",
        "label_carrier",
        "tracking_number",
        "label_download",
        "label_cost",
        "created_by",
        "created_at",
        "authorized_at",
        "received_at",
        "inspected_at",
        "closed_at",
        "refused_reason",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Return]:
        return super().get_queryset(request).select_related("order", "return_node", "received_node")

    # --- the return label: a page of its own, for whoever may see the return ------------------

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<path:object_id>/label/",
                self.admin_site.admin_view(self.label_view),
                name="returns_return_label",
            )
        ]
        return own + super().get_urls()

    def label_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The label the carrier sold: its PDF as stored, or the carrier's own label address
        (EasyPost keeps the file). 403 without the right to see returns, 404 without a label."""
        rma = self.get_object(request, unquote(object_id))
        if rma is None:
            raise Http404("No such return.")
        if not self.has_view_permission(request, rma):
            raise PermissionDenied
        if rma.label_pdf:
            response = HttpResponse(bytes(rma.label_pdf), content_type="application/pdf")
            filename = f"return-label-{rma.number}-{rma.tracking_number or 'label'}.pdf"
            response["Content-Disposition"] = f'inline; filename="{filename}"'
            return response
        if rma.label_url.startswith("https://"):
            return HttpResponseRedirect(rma.label_url)
        raise Http404(f"Return {rma.number} has no label.")

    @display(description="Return label")
    def label_download(self, obj: Return) -> str:
        if not obj.label_pdf and not obj.label_url.startswith("https://"):
            return "–"
        url = reverse("admin:returns_return_label", args=[obj.pk])
        what = f"{obj.label_carrier} {obj.tracking_number}".strip() or obj.number
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" class="text-primary-600" '
            "data-return-label>Download the label ({})</a>",
            url,
            what,
        )

    # Customer service adds returns through the service (the add form), never by saving a row.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("returns.add_return")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                "order_number",
                "lines",
                "reason_code",
                "condition",
                "exchange",
                "authorize_now",
                "note",
            )
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.inlines

    def save_model(self, request: HttpRequest, obj: Return, form: Any, change: bool) -> None:
        data = form.cleaned_data
        order = orders_for_staff().filter(number=data["order_number"].strip().upper()).first()
        if order is None:
            raise _FormRefused("No such order.")
        try:
            created = request_return(
                order_id=order.pk,
                request=ReturnRequest(
                    lines=[
                        RequestedLine(n, q, data["reason_code"], data["condition"])
                        for n, q in data["lines"]
                    ],
                    source=ReturnSource.ADMIN,
                    exchange_kind=data["exchange"] or ExchangeKind.NONE,
                    customer_note=data["note"],
                    authorize=data["authorize_now"],
                    enforce_window=True,
                ),
                actor=Actor.for_user(request.user),
            )
        except DomainError as exc:
            raise _FormRefused(exc.detail) from exc
        adopt_created(obj, created)

    # --- permissions of the buttons ----------------------------------------------------------

    def _may_work(self, request: HttpRequest) -> bool:
        return request.user.has_perm("returns.change_return")

    def _status_allows(self, obj: Any, statuses: tuple[str, ...]) -> bool:
        """On a return's page (unfold passes its id), a button shows only when the return's
        status allows it; the service checks again."""
        if obj is None:
            return True
        pk = obj.pk if isinstance(obj, Return) else obj
        status = Return.objects.filter(pk=pk).values_list("status", flat=True).first()
        return status is None or status in statuses

    def has_authorize_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_work(request) and self._status_allows(obj, (ReturnStatus.REQUESTED,))

    def has_reject_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_work(request) and self._status_allows(obj, (ReturnStatus.REQUESTED,))

    def has_receive_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_work(request) and self._status_allows(obj, tuple(RECEIVABLE_STATUSES))

    def has_inspect_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_work(request) and self._status_allows(obj, (ReturnStatus.RECEIVED,))

    def has_cancel_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_work(request) and self._status_allows(obj, tuple(CANCELLABLE_STATUSES))

    def has_refund_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not request.user.has_perm("returns.add_refund"):
            return False
        pk = obj.pk if isinstance(obj, Return) else obj
        early = (
            pk is not None
            and Return.objects.filter(pk=pk, policy__refund_before_receipt=True).exists()
        )
        statuses = REFUNDABLE_AFTER_RECEIPT + (REFUNDABLE_BEFORE_RECEIPT if early else ())
        return self._status_allows(obj, statuses)

    @display(description="Status", ordering="status", label=RETURN_STATUS_COLOURS)
    def status_label(self, obj: Return) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    # --- buttons -------------------------------------------------------------------------------

    @dialog_action(
        label="Authorize",
        permission="authorize",
        icon="check_circle",
        explanation="The customer may send the units back; an advance exchange ships now.",
    )
    def authorize_detail(self, request: HttpRequest, form: Any, rma: Return) -> str:
        authorize_return(return_id=rma.pk, actor=Actor.for_user(request.user))
        return f"Return {rma.number} authorized."

    @dialog_action(
        label="Reject",
        permission="reject",
        icon="block",
        form_class=ReasonForm,
        explanation="The customer is told why; nothing comes back and nothing is refunded.",
    )
    def reject_detail(self, request: HttpRequest, form: ReasonForm, rma: Return) -> str:
        reject_return(
            return_id=rma.pk, reason=form.cleaned_data["reason"], actor=Actor.for_user(request.user)
        )
        return f"Return {rma.number} rejected."

    @dialog_action(
        label="Receive",
        permission="receive",
        icon="move_to_inbox",
        form_class=ReceiveForm,
        explanation="Count what arrived, per line.",
        submit_text="Record receipt",
    )
    def receive_detail(self, request: HttpRequest, form: ReceiveForm, rma: Return) -> str:
        receive_return(
            return_id=rma.pk,
            node_id=form.cleaned_data["node"].pk,
            received=form.received(),
            actor=Actor.for_user(request.user),
        )
        return f"Return {rma.number} received at {form.cleaned_data['node'].name}."

    @dialog_action(
        label="Inspect",
        permission="inspect",
        icon="fact_check",
        form_class=InspectForm,
        explanation="A disposition for every unit received. Restocked units go back on sale at "
        "the node that received them; the refund follows.",
        submit_text="Record inspection",
    )
    def inspect_detail(self, request: HttpRequest, form: InspectForm, rma: Return) -> str:
        inspect_return(
            return_id=rma.pk,
            dispositions=form.dispositions(),
            note=form.cleaned_data["note"],
            actor=Actor.for_user(request.user),
        )
        return f"Return {rma.number} inspected."

    @dialog_action(
        label="Refund",
        permission="refund",
        icon="payments",
        form_class=RefundForm,
        explanation="What came back, by its disposition and the return's policy version.",
        submit_text="Refund",
    )
    def refund_detail(self, request: HttpRequest, form: RefundForm, rma: Return) -> str:
        refund = refund_return(return_id=rma.pk, actor=Actor.for_user(request.user))
        amount = f"{format_amount(refund.amount, refund.currency)} {refund.currency}"
        if refund.status == RefundStatus.FAILED:
            raise DomainError(
                code="refund_failed",
                detail=f"The provider declined the refund of {amount}: {refund_problem(refund)} "
                "An exception case is open; retry the refund once the cause is fixed.",
            )
        return f"Refund of {amount} {refund.get_status_display().lower()}."

    @dialog_action(
        label="Cancel return",
        permission="cancel",
        icon="cancel",
        form_class=ReasonForm,
        explanation="Only before anything came back.",
    )
    def cancel_detail(self, request: HttpRequest, form: ReasonForm, rma: Return) -> str:
        cancel_return(
            return_id=rma.pk, reason=form.cleaned_data["reason"], actor=Actor.for_user(request.user)
        )
        return f"Return {rma.number} cancelled."


# --- policies, refunds, exchanges ----------------------------------------------------------------


class ReturnPolicyCreateForm(RefusalFormMixin, forms.ModelForm):
    non_returnable = forms.CharField(
        required=False, help_text="SKUs that cannot be returned, comma-separated."
    )
    limits = forms.CharField(
        required=False,
        initial="customer_service=25.00, finance=250.00, ops_admin=250.00",
        help_text="Appeasement limit per role: role=amount, comma-separated.",
    )

    class Meta:
        model = ReturnPolicy
        fields = [
            "channel",
            "window_days",
            "restocking_fee_percent",
            "return_shipping_paid_by",
            "return_label_fee",
            "shipping_refund",
            "refund_before_receipt",
            "advance_exchange_days",
            "note",
        ]

    def terms(self) -> dict[str, Any]:
        data = self.cleaned_data
        limits = {}
        for part in (data.get("limits") or "").split(","):
            role, _, amount = part.strip().partition("=")
            if role:
                limits[role.strip()] = amount.strip()
        return {
            "window_days": data["window_days"],
            "non_returnable_skus": [
                s.strip() for s in (data.get("non_returnable") or "").split(",") if s.strip()
            ],
            "restocking_fee_percent": str(data["restocking_fee_percent"]),
            "return_shipping_paid_by": data["return_shipping_paid_by"],
            "return_label_fee": str(data["return_label_fee"]),
            "shipping_refund": data["shipping_refund"],
            "refund_before_receipt": data["refund_before_receipt"],
            "advance_exchange_days": data["advance_exchange_days"],
            "appeasement_limits": limits,
            "note": data.get("note", ""),
        }


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(ServiceCreateAdmin):
    """Versions are never edited: 'Add' makes the next version of the channel's policy."""

    create_form = ReturnPolicyCreateForm

    list_display = (
        "__str__",
        "is_active",
        "window_days",
        "restocking_fee_percent",
        "return_shipping_paid_by",
        "shipping_refund",
        "refund_before_receipt",
        "created_at",
    )
    list_filter = ("channel", "is_active")
    ordering = ("channel_id", "-version")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("returns.add_returnpolicy")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [*ReturnPolicyCreateForm.Meta.fields, "non_returnable", "limits"]
        return [
            "channel",
            "version",
            "is_active",
            "window_days",
            "non_returnable_skus",
            "restocking_fee_percent",
            "return_shipping_paid_by",
            "return_label_fee",
            "shipping_refund",
            "refund_before_receipt",
            "advance_exchange_days",
            "appeasement_limits",
            "note",
            "created_by",
            "created_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: ReturnPolicy, form: Any, change: bool) -> None:
        try:
            created = create_return_policy(
                channel=form.cleaned_data["channel"],
                terms=form.terms(),
                actor=Actor.for_user(request.user),
            )
        except InvalidInput as exc:
            raise _FormRefused(" ".join(e.detail for e in exc.errors)) from exc
        adopt_created(obj, created)


class AppeasementForm(RefusalFormMixin, forms.ModelForm):
    """A goodwill refund with no return, up to your role's limit in the channel's policy."""

    order_number = forms.CharField(max_length=20, help_text="OMS-XXXX-XXXX")
    appeasement = forms.DecimalField(
        min_value=Decimal("0.01"),
        decimal_places=4,
        label="Amount",
        help_text="In the order's currency.",
    )
    reason = forms.ChoiceField(choices=AppeasementReason.choices)
    explanation = forms.CharField(max_length=300, required=False, label="Note")
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Refund
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4().hex  # a double submit is one refund


@admin.register(Refund)
class RefundAdmin(ServiceCreateAdmin):
    """Refunds of returns and appeasements. 'Add' is a goodwill refund (appeasement); a
    declined refund is retried from its page."""

    create_form = AppeasementForm
    list_display = (
        "order",
        "rma",
        "kind",
        "status_label",
        "amount_display",
        "reason_label",
        "problem_label",
        "created_at",
    )
    list_filter = (("status", ChoicesDropdownFilter), ("kind", ChoicesDropdownFilter))
    search_fields = ("order__number", "rma__number", "provider_reference")
    ordering = ("-created_at", "-id")
    actions_detail = ("retry_detail",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return super().get_queryset(request).select_related("order", "rma")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("returns.add_refund")

    def has_retry_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("returns.change_refund")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("order_number", "appeasement", "reason", "explanation", "token")
        return (
            "order",
            "rma",
            "kind",
            "status",
            "amount",
            "currency",
            "breakdown",
            "reason_label",
            "note",
            "idempotency_key",
            "payment_transaction_id",
            "provider_reference",
            "problem_label",
            "error_message",
            "attempts",
            "requested_by",
            "created_at",
            "refunded_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Refund, form: Any, change: bool) -> None:
        data = form.cleaned_data
        order = orders_for_staff().filter(number=data["order_number"].strip().upper()).first()
        if order is None:
            raise _FormRefused("No such order.")
        try:
            created = appease(
                order_id=order.pk,
                amount=data["appeasement"],
                reason_code=data["reason"],
                note=data["explanation"],
                actor=Actor.for_user(request.user),
                roles=appeasement_roles_of(request.user),
                idempotency_key=f"appease:{data['token']}" if data["token"] else None,
            )
        except DomainError as exc:
            raise _FormRefused(exc.detail) from exc
        adopt_created(obj, created)

    @display(description="Status", ordering="status", label=REFUND_STATUS_COLOURS)
    def status_label(self, obj: Refund) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Amount", ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return f"{format_amount(obj.amount, obj.currency)} {obj.currency}"

    @display(description="Reason", ordering="reason_code")
    def reason_label(self, obj: Refund) -> str:
        return refund_reason_label(obj)

    @display(description="Problem")
    def problem_label(self, obj: Refund) -> str:
        return refund_problem(obj) or "–"

    @dialog_action(
        label="Retry refund",
        permission="retry",
        icon="replay",
        explanation="After fixing what made the provider decline it. The same provider key is "
        "used: it refunds at most once.",
    )
    def retry_detail(self, request: HttpRequest, form: Any, refund: Refund) -> str:
        done = retry_refund(refund_id=refund.pk, actor=Actor.for_user(request.user))
        if done.status == RefundStatus.FAILED:
            raise DomainError(
                code="refund_failed",
                detail=f"The provider declined the refund again: {refund_problem(done)}",
            )
        return f"Refund {done.get_status_display().lower()}."


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdmin):
    list_display = ("rma", "kind", "status", "replacement_order", "value_display", "due_at")
    list_filter = ("kind", "status")
    search_fields = ("rma__number", "replacement_order__number")

    @display(description="Value")
    def value_display(self, obj: Exchange) -> str:
        return f"{format_amount(obj.value, obj.currency)} {obj.currency}"
