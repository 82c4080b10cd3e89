"""Counts and times every HTTP request by method, route name and status."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from oms.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

UNMATCHED = "<unmatched>"


def route_name(request: HttpRequest) -> str:
    """The URL pattern's name (namespaced), else its route: never the raw path, whose ids
    would make the label set unbounded."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    if match.url_name:
        return match.view_name
    return match.route or UNMATCHED


class PrometheusMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        status = "500"
        try:
            response = self.get_response(request)
            status = str(response.status_code)
            return response
        finally:
            route = route_name(request)
            HTTP_REQUESTS.labels(request.method or "", route, status).inc()
            HTTP_LATENCY.labels(request.method or "", route).observe(time.perf_counter() - started)
