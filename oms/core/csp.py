"""Per-area loosening of the Content Security Policy (settings.CONTENT_SECURITY_POLICY).

The store screens and everything else get the strict policy. Two areas need more, and only
those get it (docs/security.md, "Content Security Policy"):

- the admin (django-unfold): unfold ships the standard Alpine.js build, which compiles its
  `x-data`/`x-show` expressions with `new Function` ('unsafe-eval'), and its templates carry
  `style="..."` attributes ('unsafe-inline' for styles only; styles cannot run script). No
  inline <script> is allowed there either.
- the API docs page (/api/docs/): Swagger UI's files come from cdn.jsdelivr.net.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

ADMIN = {"script-src": ["'unsafe-eval'"], "style-src": ["'unsafe-inline'"]}
API_DOCS = {
    "script-src": ["https://cdn.jsdelivr.net"],
    "style-src": ["https://cdn.jsdelivr.net"],
    "img-src": ["https://cdn.jsdelivr.net"],
}


class AreaPolicyMiddleware:
    """Sits inside csp.middleware.CSPMiddleware, so it marks the response before the header is
    written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        update = None
        if request.path.startswith("/admin/"):
            update = ADMIN
        elif request.path.startswith("/api/docs/"):
            update = API_DOCS
        if update is not None and getattr(response, "_csp_update", None) is None:
            setattr(response, "_csp_update", update)  # noqa: B010 - read by django-csp
        return response
