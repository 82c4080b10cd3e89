"""oms.core.headers reads a header from META as request.headers would give it."""

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from oms.core.headers import request_header

SENT = {
    "Authorization": "Bearer oms_0123456789ab_key",
    "Idempotency-Key": "a-key-1",
    "X-Correlation-ID": "abc.123",
    "Accept": "application/json",
}


@pytest.mark.parametrize("name", [*SENT, "idempotency-key", "X-CORRELATION-ID", "If-Match"])
def test_a_header_is_read_as_request_headers_gives_it(name):
    request = RequestFactory().get("/api/v1/orders/", headers=SENT)

    assert request_header(request, name) == request.headers.get(name)
    assert request_header(Request(request), name) == request.headers.get(name)


def test_an_absent_header_is_none():
    request = RequestFactory().get("/api/v1/orders/")

    assert request_header(request, "Idempotency-Key") is None
