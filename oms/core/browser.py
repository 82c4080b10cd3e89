"""The browser-only middleware, run for browser screens and skipped for machine paths.

Sessions, CSRF cookies, the signed-in user, messages, django-simple-history's request,
django-htmx and django-axes serve people in a browser (the admin, the store screens, the API
docs page, the staff-only webhook-subscription API, which authenticates by session). An API
client with a key or a platform posting a webhook never has a session, yet every one of its
requests paid for that chain (docs/performance.md, "Skipping the browser chain for /api/").

`BrowserMiddleware` stands in MIDDLEWARE where those classes stood and runs
settings.OMS_BROWSER_MIDDLEWARE (in that order) around the rest of the chain, except for paths
under settings.OMS_MACHINE_PATHS that are not under settings.OMS_BROWSER_PATHS_UNDER_MACHINE
(`is_machine_path`), which go straight on. The hooks the handler would have collected from
those classes (`process_view`, where CSRF is checked; `process_exception`;
`process_template_response`) are collected here and run, in Django's order, for browser
requests only. Everything else in MIDDLEWARE (metrics, security headers, CSP, correlation id,
the NUL refusal, CommonMiddleware, X-Frame-Options) runs for every path, machine ones included.

A view under a machine path must not need a session: tests/security/test_browser_chain.py walks
every URL and fails on a view there that authenticates by session.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

_BROWSER = "_oms_browser_chain"  # set on a request the browser chain runs for

# What the admin and django-axes check for in MIDDLEWARE (their checks are silenced in
# settings, since these classes now live in OMS_BROWSER_MIDDLEWARE; `browser_chain_check`
# below makes the same demand of that list).
REQUIRED = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
)


def is_machine_path(path: str) -> bool:
    """Whether a request to `path` (its path_info) skips the browser chain."""
    return path.startswith(settings.OMS_MACHINE_PATHS) and not path.startswith(
        settings.OMS_BROWSER_PATHS_UNDER_MACHINE
    )


class BrowserMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self._view_hooks: list[Callable[..., Any]] = []
        self._template_response_hooks: list[Callable[..., Any]] = []
        self._exception_hooks: list[Callable[..., Any]] = []
        # As django.core.handlers.base.BaseHandler.load_middleware builds its chain.
        handler: Callable[[HttpRequest], Any] = convert_exception_to_response(get_response)
        for path in reversed(settings.OMS_BROWSER_MIDDLEWARE):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_hooks.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_hooks.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_hooks.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._browser_chain = handler

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_machine_path(request.path_info):
            return self.get_response(request)
        setattr(request, _BROWSER, True)  # noqa: B010 - read by the hooks below
        return self._browser_chain(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        if getattr(request, _BROWSER, False):
            for hook in self._view_hooks:
                response = hook(request, view, args, kwargs)
                if response is not None:
                    return response
        return None

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        if getattr(request, _BROWSER, False):
            for hook in self._template_response_hooks:
                response = hook(request, response)
        return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if getattr(request, _BROWSER, False):
            for hook in self._exception_hooks:
                response = hook(request, exception)
                if response is not None:
                    return response
        return None


@checks.register(checks.Tags.security, checks.Tags.compatibility)
def browser_chain_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """The admin's admin.E408-E410 and django-axes' axes.W002, for OMS_BROWSER_MIDDLEWARE."""
    problems: list[checks.CheckMessage] = []
    if "oms.core.browser.BrowserMiddleware" not in settings.MIDDLEWARE:
        problems.append(
            checks.Error(
                "oms.core.browser.BrowserMiddleware must be in MIDDLEWARE: it runs "
                "OMS_BROWSER_MIDDLEWARE (sessions, CSRF, users, messages, django-axes).",
                id="oms.E010",
            )
        )
    for path in REQUIRED:
        if path not in settings.OMS_BROWSER_MIDDLEWARE:
            problems.append(
                checks.Error(f"{path!r} must be in OMS_BROWSER_MIDDLEWARE.", id="oms.E011")
            )
        if path in settings.MIDDLEWARE:
            problems.append(
                checks.Error(
                    f"{path!r} is in MIDDLEWARE and OMS_BROWSER_MIDDLEWARE: it would run twice.",
                    id="oms.E012",
                )
            )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def browser_chain_csrf_cookie_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Django's security.W016 (its W003 and W016 look for CsrfViewMiddleware in MIDDLEWARE;
    it is in OMS_BROWSER_MIDDLEWARE, which oms.E011 demands; W003 is silenced in settings)."""
    if (
        "django.middleware.csrf.CsrfViewMiddleware" in settings.OMS_BROWSER_MIDDLEWARE
        and not settings.CSRF_USE_SESSIONS
        and settings.CSRF_COOKIE_SECURE is not True
    ):
        return [
            checks.Warning(
                "CsrfViewMiddleware is in OMS_BROWSER_MIDDLEWARE, but CSRF_COOKIE_SECURE is not "
                "True: a secure-only CSRF cookie is harder for network sniffers to steal.",
                id="oms.W010",
            )
        ]
    return []
