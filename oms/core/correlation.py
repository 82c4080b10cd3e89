"""Correlation ids: one per request (X-Correlation-ID in and out), carried into events, logs
and Celery tasks so a single id ties together everything one request caused."""

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from oms.core.headers import request_header

HEADER = "X-Correlation-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def get_correlation_id() -> str | None:
    return _current.get()


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    """Run a block under a correlation id (a new one when None)."""
    value = correlation_id if correlation_id and _VALID.match(correlation_id) else None
    token = _current.set(value or new_correlation_id())
    try:
        yield _current.get() or ""
    finally:
        _current.reset(token)


class CorrelationIdMiddleware:
    """Accepts a well-formed incoming X-Correlation-ID or makes one; echoes it on the response.

    A malformed incoming id (too long, odd characters) is replaced rather than rejected: the
    header is diagnostic, and refusing an order over it would be the wrong trade.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with correlation_scope(request_header(request, HEADER)) as correlation_id:
            request.correlation_id = correlation_id  # type: ignore[attr-defined]  # our own request attribute
            response = self.get_response(request)
            response[HEADER] = correlation_id
            return response


class CorrelationIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx/5xx after the middleware has returned: fall back to the id
        # the middleware left on the request.
        request = getattr(record, "request", None)
        record.correlation_id = get_correlation_id() or getattr(request, "correlation_id", None)
        return True
