"""Health check, and Django's error pages in the API's error shape for paths under /api/."""

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from oms.api.errors import error_body


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a trivial database round trip."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# Machine callers only: the API and the channel platforms' webhooks (channels/api/urls.py).
API_PREFIXES = ("/api/", "/webhooks/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request is malformed."), status=400)
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to do this."), status=403
        )
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    """An unknown URL under /api/ (no view at all): `404 not_found`, like an unknown object."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception, **kwargs)


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """A bug: logged by Django as always; the client still gets the documented shape."""
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side. Retry later."),
            status=500,
        )
    return defaults.server_error(request, **kwargs)
