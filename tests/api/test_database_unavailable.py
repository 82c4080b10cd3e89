"""A database that goes away (a restart, a failover) answers 503 `service_unavailable` with
Retry-After in the API's error shape, never a 500 (tests/chaos/test_faults.py restarts a real
PostgreSQL under load)."""

import pytest
from django.db import InterfaceError, OperationalError

from oms.api import authentication

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_lost_database_is_a_503_with_retry_after(web_api, monkeypatch, error):
    # given: the database connection fails while the API key is looked up
    def unavailable(*args, **kwargs):
        raise error

    monkeypatch.setattr(authentication, "_client_by_prefix", unavailable)

    # when
    response = web_api.get("/api/v1/orders/")

    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert set(body) == {"code", "detail", "errors", "extra"}
