"""The "receive a return" store screens: the returns expected at the associate's stores, a
return found by its number (the customer shows it), counting what came back, and a disposition
per unit. Thin, like the other store screens: scope to the associate's stores, validate with a
form, call the returns desk (the port in oms/core/returns_desk.py), POST/redirect/GET."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.core.returns_desk import DeskReturn, returns_desk
from stores.returns_forms import FindReturnForm, InspectReturnForm, ReceiveReturnForm
from stores.selectors import stores_of
from stores.views import store_associate_required

RECENT = 10


def _stores(request: HttpRequest) -> list[tuple[int, str]]:
    return [(s.pk, s.name) for s in stores_of(request.user).filter(can_accept_returns=True)]


def _return_or_404(request: HttpRequest, number: str) -> DeskReturn:
    ids = [pk for pk, _ in _stores(request)]
    rma = returns_desk().find(number, ids) if ids else None
    if rma is None:
        raise Http404("No such return for your stores.")
    return rma


@require_GET
@store_associate_required
def returns_list(request: HttpRequest) -> HttpResponse:
    stores = _stores(request)
    ids = [pk for pk, _ in stores]
    find = FindReturnForm(request.GET or None)
    if find.is_valid():
        found = returns_desk().find(find.cleaned_data["number"], ids) if ids else None
        if found is not None:
            return redirect("stores:return", rma=found.number)
        find.add_error("number", "No return with that number can be received here.")
    desk = returns_desk()
    context = {
        "stores": stores,
        "find": find,
        "expected": desk.expected(ids) if ids else [],
        "received": desk.received(ids, RECENT) if ids else [],
    }
    return render(request, "stores/returns.html", context)


def _render_return(
    request: HttpRequest,
    rma: DeskReturn,
    *,
    receive: ReceiveReturnForm | None = None,
    inspect: InspectReturnForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    stores = _stores(request)
    context = {
        "rma": rma,
        "receive": receive
        or (ReceiveReturnForm(rma=rma, stores=stores) if rma.receivable else None),
        "inspect": inspect
        or (
            InspectReturnForm(rma=rma)
            if rma.inspectable and rma.received_node_id in {pk for pk, _ in stores}
            else None
        ),
        "error": error,
    }
    return render(request, "stores/return.html", context, status=status)


@require_GET
@store_associate_required
def return_detail(request: HttpRequest, rma: str) -> HttpResponse:
    return _render_return(request, _return_or_404(request, rma))


@store_associate_required  # the gate first: a GET by anyone else is a 404, not a 405
@require_POST
def receive_return_view(request: HttpRequest, rma: str) -> HttpResponse:
    found = _return_or_404(request, rma)
    stores = _stores(request)
    form = ReceiveReturnForm(request.POST, rma=found, stores=stores)
    if not form.is_valid():
        return _render_return(request, found, receive=form, status=400)
    try:
        done = returns_desk().receive(
            number=found.number,
            node_id=form.cleaned_data["node"],
            node_ids=[pk for pk, _ in stores],
            received=form.received(),
            actor=Actor.for_user(request.user),
            source=f"store:{request.user.get_username()}",
            message_id=str(form.cleaned_data["token"]),
        )
    except DomainError as exc:
        found = _return_or_404(request, rma)
        status = exc.http_status if 400 <= exc.http_status < 500 else 409
        return _render_return(request, found, receive=form, error=exc, status=status)
    units = sum(line.received for line in done.lines)
    messages.success(
        request,
        f"Received {units} unit{'s' if units != 1 else ''}. Next: check each item and say "
        "where it goes.",
    )
    return redirect("stores:return", rma=done.number)


@store_associate_required  # the gate first: a GET by anyone else is a 404, not a 405
@require_POST
def inspect_return_view(request: HttpRequest, rma: str) -> HttpResponse:
    found = _return_or_404(request, rma)
    form = InspectReturnForm(request.POST, rma=found)
    if not form.is_valid():
        return _render_return(request, found, inspect=form, status=400)
    try:
        done = returns_desk().inspect(
            number=found.number,
            node_ids=[pk for pk, _ in _stores(request)],
            dispositions=form.dispositions(),
            actor=Actor.for_user(request.user),
            note=form.cleaned_data["note"],
            # the form's token: a double tap is the same message, answered without a refusal
            source=f"store:{request.user.get_username()}",
            message_id=str(form.cleaned_data["token"]),
        )
    except DomainError as exc:
        found = _return_or_404(request, rma)
        status = exc.http_status if 400 <= exc.http_status < 500 else 409
        return _render_return(request, found, inspect=form, error=exc, status=status)
    restocked = sum(line.dispositions.get("restock", 0) for line in done.lines)
    settles = "the exchange settles it" if done.exchange else "the customer's refund is on its way"
    messages.success(
        request,
        f"Inspected. {restocked} unit{'s' if restocked != 1 else ''} back on sale in this store; "
        f"{settles}.",
    )
    return redirect("stores:return", rma=done.number)
