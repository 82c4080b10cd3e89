"""The store screens: the queue, the pick list and its buttons, the label download.

Thin by design: authenticate (store associates only), scope (stores.selectors: another store's
fulfillment order is a 404), validate with a form, call one service, then POST/redirect/GET
with a flash message. A refusal (DomainError) is shown on the page in words, never as a 500.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.services.feedback import (
    hand_over,
    mark_ready_for_pickup,
    pack_fulfillment,
    reject_fulfillment,
    start_picking,
    unlock_pickup,
)
from fulfillment.services.labels import ship_with_carrier
from oms.core.actors import Actor
from oms.core.errors import DomainError
from stores.forms import (
    ActionForm,
    ConfirmPickedForm,
    HandOverForm,
    MarkReadyForm,
    RejectForm,
    ShipForm,
    StartPickingForm,
    StoreLoginForm,
    UnlockPickupForm,
)
from stores.selectors import (
    QUEUE_STATUSES,
    fulfillment_for_user,
    fulfillment_lines,
    is_store_associate,
    is_store_lead,
    label_for_user,
    queue_for_user,
    shipments_of,
)
from stores.services import store_message

S = FulfillmentStatus
QUEUE_POLL_SECONDS = 30


def store_associate_required[**P](view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Anonymous: to the store login (an htmx poll is told to redirect the whole page).
    Signed in without store access: 404, like anything else they may not see."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = next(a for a in args if isinstance(a, HttpRequest))
        if not request.user.is_authenticated:
            login = reverse("stores:login")
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(f"{login}?next={reverse('stores:queue')}")
            return redirect_to_login(request.get_full_path(), login_url=login)
        if not is_store_associate(request.user):
            raise Http404("No store screens here.")
        return view(*args, **kwargs)

    return wrapper


class StoreLoginView(LoginView):
    template_name = "stores/login.html"
    authentication_form = StoreLoginForm
    next_page = reverse_lazy("stores:queue")


class StoreLogoutView(LogoutView):
    next_page = reverse_lazy("stores:login")


# --- the queue ----------------------------------------------------------------------------------


@require_GET
@store_associate_required
def queue(request: HttpRequest) -> HttpResponse:
    context = {
        "queues": queue_for_user(request.user),
        "poll_seconds": QUEUE_POLL_SECONDS,
        "now": timezone.now(),
    }
    if getattr(request, "htmx", False):
        return render(request, "stores/_queue.html", context)
    return render(request, "stores/queue.html", context)


# --- the pick list ------------------------------------------------------------------------------


def _fulfillment_or_404(request: HttpRequest, pk: int) -> FulfillmentOrder:
    fo = fulfillment_for_user(request.user, pk)
    if fo is None:
        raise Http404("No such fulfillment order at your stores.")
    return fo


def _action_forms(
    fo: FulfillmentOrder, lines: list[Any], bound: ActionForm | None
) -> dict[str, ActionForm]:
    """The buttons the fulfillment order's status allows, each with a fresh token; the form
    just submitted (with its errors) replaces its fresh twin."""
    kinds: list[type[ActionForm]] = []
    if fo.status in (S.RELEASED, S.ACCEPTED):
        kinds.append(StartPickingForm)
    if fo.status == S.PICKING:
        kinds.append(ConfirmPickedForm)
    if fo.status == S.PACKED:
        kinds.append(MarkReadyForm if fo.is_pickup else ShipForm)
    if fo.status == S.READY_FOR_PICKUP:
        # Locked after too many wrong codes: only a lead's unlock (the template shows it to
        # leads; the view checks) until the hand-over opens again.
        kinds.append(UnlockPickupForm if fo.pickup_locked_at is not None else HandOverForm)
    if fo.status in (S.RELEASED, S.ACCEPTED, S.PICKING):
        kinds.append(RejectForm)
    forms = {kind.name: kind(fulfillment=fo, lines=lines) for kind in kinds}
    if bound is not None and bound.name in forms:
        forms[bound.name] = bound
    return forms


def _render_detail(
    request: HttpRequest,
    fo: FulfillmentOrder,
    *,
    bound: ActionForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    lines = fulfillment_lines(fo)
    forms = _action_forms(fo, lines, bound)
    shown = bound.name if bound is not None and bound.name in forms else None
    context = {
        "fo": fo,
        "order": fo.order,
        "store": fo.node,
        "lines": lines,
        "units": sum(line.quantity for line in lines),
        "shipments": shipments_of(fo) if fo.status in (S.SHIPPED, S.DELIVERED) else [],
        "forms": forms,
        "error": error,
        # A refusal is shown next to the button that caused it, if that button is still there.
        "error_for": shown if error is not None else None,
        "open_form": shown,
        "is_open": fo.status in QUEUE_STATUSES,
        "can_unlock": is_store_lead(request.user, fo.node_id),
    }
    return render(request, "stores/fulfillment.html", context, status=status)


@require_GET
@store_associate_required
def fulfillment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _fulfillment_or_404(request, pk))


@method_decorator(store_associate_required, name="dispatch")
class FulfillmentAction(View):
    """POST one button: scope → form → one service → redirect with a flash message."""

    http_method_names = ["post"]
    form_class: type[ActionForm]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        fo = _fulfillment_or_404(request, pk)
        form = self.form_class(request.POST, fulfillment=fo, lines=fulfillment_lines(fo))
        if not form.is_valid():
            return _render_detail(request, fo, bound=form, status=400)
        message = store_message(request.user, form.cleaned_data["token"], form.payload())
        try:
            done = self.perform(
                form, fulfillment_id=fo.pk, actor=Actor.for_user(request.user), message=message
            )
        except DomainError as exc:
            fo = _fulfillment_or_404(request, pk)  # re-read: it may have moved meanwhile
            status = exc.http_status if 400 <= exc.http_status < 500 else 409
            return _render_detail(request, fo, bound=form, error=exc, status=status)
        messages.success(request, self.success_message(form, done))
        return redirect("stores:fulfillment", pk=fo.pk)

    def perform(self, form: Any, **call: Any) -> FulfillmentOrder:
        raise NotImplementedError

    def success_message(self, form: Any, fo: FulfillmentOrder) -> str:
        raise NotImplementedError


class StartPickingView(FulfillmentAction):
    form_class = StartPickingForm

    def perform(self, form: StartPickingForm, **call: Any) -> FulfillmentOrder:
        return start_picking(**call)

    def success_message(self, form: StartPickingForm, fo: FulfillmentOrder) -> str:
        return "Picking started. Find each item, then confirm what you picked."


class ConfirmPickedView(FulfillmentAction):
    form_class = ConfirmPickedForm

    def perform(self, form: ConfirmPickedForm, **call: Any) -> FulfillmentOrder:
        return pack_fulfillment(picked=form.picked(), short_reason=form.short_reason_text(), **call)

    def success_message(self, form: ConfirmPickedForm, fo: FulfillmentOrder) -> str:
        short = form.short_units()
        next_step = "mark it ready for pickup" if fo.is_pickup else "print the label and ship"
        if not short:
            return f"Packed. Next: {next_step}."
        units = "unit" if short == 1 else "units"
        return (
            f"Packed with {short} {units} short ({form.short_reason_text()}). "
            "The missing units are being rerouted to another location by the system, and "
            "taken off this store's stock until the next count. "
            f"Next: {next_step}."
        )


class MarkReadyView(FulfillmentAction):
    form_class = MarkReadyForm

    def perform(self, form: MarkReadyForm, **call: Any) -> FulfillmentOrder:
        return mark_ready_for_pickup(**call)

    def success_message(self, form: MarkReadyForm, fo: FulfillmentOrder) -> str:
        return "Ready for pickup. The ready notice went out with the customer's pickup code."


class ShipView(FulfillmentAction):
    form_class = ShipForm

    def perform(self, form: ShipForm, **call: Any) -> FulfillmentOrder:
        return ship_with_carrier(**call)

    def success_message(self, form: ShipForm, fo: FulfillmentOrder) -> str:
        return "Shipped. Print the label below and stick it on the parcel."


class HandOverView(FulfillmentAction):
    form_class = HandOverForm

    def perform(self, form: HandOverForm, **call: Any) -> FulfillmentOrder:
        return hand_over(pickup_code=form.cleaned_data["pickup_code"], **call)

    def success_message(self, form: HandOverForm, fo: FulfillmentOrder) -> str:
        return f"Handed over to {fo.order.customer_name}. The order is picked up."


class UnlockPickupView(FulfillmentAction):
    """Only a lead of the store (the supervisor) unlocks a locked hand-over."""

    form_class = UnlockPickupForm

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        fo = _fulfillment_or_404(request, pk)
        if not is_store_lead(request.user, fo.node_id):
            raise PermissionDenied("Only a store lead can unlock a hand-over.")
        return super().post(request, pk)

    def perform(self, form: UnlockPickupForm, **call: Any) -> FulfillmentOrder:
        call.pop("message")  # an unlock is not node feedback: no inbound message log
        return unlock_pickup(note=form.cleaned_data["note"], **call)

    def success_message(self, form: UnlockPickupForm, fo: FulfillmentOrder) -> str:
        return "Unlocked. Type the customer's pickup code to hand the order over."


class RejectView(FulfillmentAction):
    form_class = RejectForm

    def perform(self, form: RejectForm, **call: Any) -> FulfillmentOrder:
        return reject_fulfillment(reason=form.reason_text(), **call)

    def success_message(self, form: RejectForm, fo: FulfillmentOrder) -> str:
        return "Rejected. The system is rerouting the order to another location."


@require_GET
@store_associate_required
def label_pdf(request: HttpRequest, pk: int, shipment_id: int) -> HttpResponse:
    shipment = label_for_user(request.user, pk, shipment_id)
    if shipment is None:
        raise Http404("No such label.")
    response = HttpResponse(bytes(shipment.label_pdf), content_type="application/pdf")
    filename = f"label-{shipment.fulfillment.number}-{shipment.tracking_number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
