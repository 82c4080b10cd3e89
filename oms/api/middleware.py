"""Site-wide refusal of a NUL character in the URL (docs/api.md, "Input limits").

`%00` in a path or a query string decodes to U+0000, which PostgreSQL text cannot hold: a
lookup or a filter with it was a 500 (API filters, admin search). Refused before any view:
`400 nul_character` in the API's error shape for machine callers (/api/ and the platforms'
/webhooks/, the prefixes of Django's error pages in oms/api/views.py), a plain 400 elsewhere.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from oms.api.errors import error_body
from oms.api.input_limits import NUL
from oms.api.views import API_PREFIXES


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in request.path_info:
        return True
    return any(NUL in key or any(NUL in v for v in values) for key, values in request.GET.lists())


class RefuseNulInUrlMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            detail = "The URL contains a NUL character (%00), which is not allowed."
            if request.path.startswith(API_PREFIXES):
                return JsonResponse(error_body("nul_character", detail), status=400)
            return HttpResponseBadRequest(detail, content_type="text/plain")
        return self.get_response(request)
