"""Glue between the admin and the services: the admin stays thin.

Admin actions and buttons call a service per object through `run_service_for_each()`, which turns
each `DomainError` into an error message showing its `detail` (never a 500) and reports the
successes in one message. `redirect_after_action()` answers both a plain POST and an htmx POST
(unfold's dialog actions). `dialog_action()` builds a page button with a dialog around the one
service call it makes. `ReadOnlyAdmin` is for rows that only services write, and
`ReadOnlyInline` shows such rows under their parent's page. `HistoryModelAdmin`
is unfold's ModelAdmin with simple_history's "History" view, minus simple_history's unguarded
revert POST.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_fsm import FSMFieldMixin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action
from unfold.forms import BaseDialogForm

from oms.core.errors import DomainError


@dataclass
class ServiceRun[T]:
    """What happened to each object: the service's result, or the refusal it raised."""

    succeeded: list[tuple[T, Any]] = field(default_factory=list)
    refused: list[tuple[T, DomainError]] = field(default_factory=list)


def run_service_for_each[T](
    request: HttpRequest,
    objects: Iterable[T],
    fn: Callable[[T], Any],
    *,
    success_message: Callable[[int], str] | str | None = None,
) -> ServiceRun[T]:
    """Call `fn(obj)` for each object; each call is its own service call (and transaction).

    A `DomainError` is reported as an error message `"<obj>: <detail>"` and the loop goes on
    with the next object. Anything else is a bug and propagates. `success_message` (a string,
    or a function of the number of successes) is shown once when at least one call succeeded.
    """
    run: ServiceRun[T] = ServiceRun()
    for obj in objects:
        try:
            result = fn(obj)
        except DomainError as exc:
            run.refused.append((obj, exc))
            messages.error(request, f"{obj}: {exc.detail}")
        else:
            run.succeeded.append((obj, result))
    if run.succeeded and success_message is not None:
        text = success_message(len(run.succeeded)) if callable(success_message) else success_message
        messages.success(request, text)
    return run


def redirect_after_action(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect after a POST: htmx (unfold's dialog actions) needs HX-Redirect, not a 302."""
    if getattr(request, "htmx", False):
        return HttpResponse(headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


def change_url(model_admin: ModelAdmin, obj: Any) -> str:
    """The admin change page of `obj` (a row of `model_admin`'s model)."""
    opts = model_admin.opts
    name = f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change"
    return reverse(name, args=[obj.pk])


class Done(NamedTuple):
    """What a dialog action says after its service succeeded, and where it goes next (by
    default, back to the object's page)."""

    message: str
    url: str | None = None


type DialogService = Callable[[Any, HttpRequest, Any, Any], str | Done]


def dialog_action(
    *,
    label: str,
    permission: str,
    icon: str,
    form_class: type[BaseDialogForm] | None = None,
    title: str | None = None,
    explanation: str | None = None,
    submit_text: str | None = None,
) -> Callable[[DialogService], Callable[..., HttpResponse]]:
    """An unfold detail action (a button on the change page) that asks in a dialog first.

    A GET shows the dialog (`title` and `submit_text` default to `label`); a POST with a valid
    form finds the page's object (404 if this admin cannot see it), calls the decorated method
    `(self, request, form, obj)` once, and goes back to the object's page. The method calls the
    service and returns the success message, or a `Done` to go somewhere else; a `DomainError`
    it raises becomes the error message `"<obj>: <detail>"` (`run_service_for_each()`).
    """
    dialog: dict[str, Any] = {"title": title or label}
    if explanation:
        dialog["description"] = explanation
    dialog["form_class"] = form_class or BaseDialogForm
    dialog["form_submit_text"] = submit_text or label

    def decorate(perform: DialogService) -> Callable[..., HttpResponse]:
        @wraps(perform)  # unfold finds the action by this name in `actions_detail`
        def run(self: Any, request: HttpRequest, form: Any, object_id: str) -> HttpResponse:
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                raise Http404(f"No such {self.opts.verbose_name}.")
            page = change_url(self, obj)
            outcome = run_service_for_each(
                request, [obj], lambda target: perform(self, request, form, target)
            )
            if not outcome.succeeded:
                return redirect_after_action(request, page)
            done = outcome.succeeded[0][1]
            done = Done(done) if isinstance(done, str) else done
            messages.success(request, done.message)
            return redirect_after_action(request, done.url or page)

        return action(description=label, permissions=[permission], icon=icon, dialog=dialog)(run)

    return decorate


def adopt_created(obj: Any, created: Any) -> None:
    """Make the admin's unsaved `obj` the row a service just created, so the admin logs it and
    redirects to it (its add view saves through the service, not through obj.save())."""
    for model_field in type(created)._meta.concrete_fields:
        value = getattr(created, model_field.attname)
        if isinstance(model_field, FSMFieldMixin) and model_field.protected:
            # Mirroring a row the service wrote, not a state change: bypass the FSM guard.
            obj.__dict__[model_field.attname] = value
        else:
            setattr(obj, model_field.attname, value)
    obj._state.adding = False
    obj._state.db = created._state.db


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


class ReadOnlyAdmin(ModelAdmin):
    """Records written only by services: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(TabularInline):
    """Rows written only by services, listed on their parent's page: every listed field is
    read-only, and nothing is added, changed or deleted here."""

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


class HistoryModelAdmin(SimpleHistoryAdmin, ModelAdmin):
    """unfold ModelAdmin with simple_history's per-object history ("who changed what").

    simple_history's version view saves a revert on POST after checking only *view* history
    permission; here a revert needs change permission, and is refused outright where reverting
    is disabled (e.g. read-only models such as API clients).
    """

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if (
                obj is None
                or self.revert_disabled(request, obj)
                or not self.has_change_permission(request, obj)
            ):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
