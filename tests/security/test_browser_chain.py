"""The browser-only middleware (sessions, CSRF, users, messages, history, htmx, django-axes;
settings.OMS_BROWSER_MIDDLEWARE) runs for the admin, the store screens and the other browser
paths, and not for the machine paths (the API, platform webhooks); everything else in
MIDDLEWARE, security headers, CSP, correlation id, NUL refusal and metrics, runs for both
(oms/core/browser.py, docs/performance.md)."""

import pytest
from django.conf import settings
from django.core import checks
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from oms.core.browser import is_machine_path
from tests.factories.users import superuser

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
    "X-Correlation-ID",
)


def _routes(resolver: URLResolver | None = None, prefix: str = "/"):
    """(literal start of the route, view callback) for every URL the project serves."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = str(entry.pattern)
        literal = route.split("<", 1)[0].lstrip("^").split("(", 1)[0]
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + literal)
        elif isinstance(entry, URLPattern):
            yield prefix + literal, entry.callback


def test_no_view_under_a_machine_path_needs_a_session():
    # Every view a machine path reaches is a DRF view that authenticates without a session, so
    # skipping SessionMiddleware/AuthenticationMiddleware there changes nothing it relies on.
    machine = [(path, view) for path, view in _routes() if is_machine_path(path)]
    assert any(path.startswith("/api/v1/orders/") for path, _ in machine)
    assert any(path.startswith("/webhooks/") for path, _ in machine)
    for path, view in machine:
        cls = getattr(view, "cls", None)
        assert cls is not None, f"{path}: not a DRF view; give it a browser path or check it"
        classes = getattr(
            cls, "authentication_classes", api_settings.DEFAULT_AUTHENTICATION_CLASSES
        )
        assert not any(issubclass(c, SessionAuthentication) for c in classes), path


def test_the_session_views_under_the_api_are_browser_paths():
    sessions = [
        path
        for path, view in _routes()
        if path.startswith(settings.OMS_MACHINE_PATHS)
        and any(
            issubclass(c, SessionAuthentication)
            for c in getattr(getattr(view, "cls", None), "authentication_classes", [])
        )
    ]
    assert sessions  # the staff webhook-subscription API
    assert not any(is_machine_path(path) for path in sessions)


def test_api_requests_skip_the_browser_chain_and_keep_every_other_middleware(web_api):
    from prometheus_client import REGISTRY

    def served() -> float:
        return sum(
            s.value
            for m in REGISTRY.collect()
            if m.name == "oms_http_requests"
            for s in m.samples
            if s.name == "oms_http_requests_total"
        )

    before = served()
    response = web_api.get("/api/v1/orders/", HTTP_X_CORRELATION_ID="api-7")

    assert response.status_code == 200
    request = response.wsgi_request
    for attribute in ("session", "_messages", "htmx"):
        assert not hasattr(request, attribute), attribute
    assert request.user is None  # DRF's (UNAUTHENTICATED_USER), not the session's AnonymousUser
    for header in SECURITY_HEADERS:
        assert header in response, header
    assert response["X-Correlation-ID"] == "api-7"
    assert "Set-Cookie" not in response
    assert "Vary" not in response
    assert served() == before + 1
    nul = web_api.get("/api/v1/orders/?q=%00")
    assert nul.status_code == 400
    assert nul.json()["code"] == "nul_character"


def test_a_session_does_not_authenticate_a_machine_path():
    # given: a signed-in superuser's browser (session cookie)
    browser = Client()
    browser.force_login(superuser())

    # when: it calls an API-key endpoint
    response = browser.get("/api/v1/orders/")

    # then: as before, no key, no access (the API never accepted a session there)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_browser_paths_keep_sessions_users_messages_and_csrf():
    admin = superuser()
    browser = Client()
    browser.force_login(admin)

    page = browser.get("/admin/")
    assert page.status_code == 200
    request = page.wsgi_request
    assert request.user == admin
    assert request.session.session_key
    assert hasattr(request, "_messages")
    assert hasattr(request, "htmx")
    for header in SECURITY_HEADERS:
        assert header in page, header

    # the staff API under /api/ authenticates by session (a browser path)
    subscriptions = browser.get("/api/v1/webhook-subscriptions/")
    assert subscriptions.status_code == 200
    assert subscriptions.wsgi_request.user == admin

    # CSRF is still checked on browser forms: a POST without the token is refused
    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/admin/login/").cookies.get("csrftoken")
    refused = strict.post("/admin/login/", {"username": "admin", "password": "x"})
    assert refused.status_code == 403


def test_session_api_without_a_csrf_token_is_refused():
    # DRF's SessionAuthentication checks CSRF itself on the staff API (a browser path)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(superuser())
    response = browser.post(
        "/api/v1/webhook-subscriptions/",
        {"url": "https://example.com/h", "event_types": ["order.created"]},
        format="json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_browser_chain_is_checked_like_the_admin_checks_middleware():
    assert not [m for m in checks.run_checks() if m.id and m.id.startswith("oms.E01")]
    with override_settings(
        OMS_BROWSER_MIDDLEWARE=[m for m in settings.OMS_BROWSER_MIDDLEWARE if "sessions" not in m]
    ):
        assert "oms.E011" in {m.id for m in checks.run_checks()}


def test_the_csrf_cookie_deploy_check_follows_the_browser_chain():
    # Django's security.W016 looks for CsrfViewMiddleware in MIDDLEWARE only: oms.W010 stands in
    def deploy_ids():
        return {m.id for m in checks.run_checks(include_deployment_checks=True)}

    with override_settings(CSRF_COOKIE_SECURE=False):
        assert "oms.W010" in deploy_ids()
    with override_settings(CSRF_COOKIE_SECURE=True):
        assert "oms.W010" not in deploy_ids()
