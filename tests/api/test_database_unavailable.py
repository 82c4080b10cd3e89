"""A database that goes away (a restart, a failover) answers 503 `service_unavailable` with
Retry-After in the API's error shape, never a 500 (tests/chaos/test_faults.py restarts a real
PostgreSQL under load).

The faults here are real: the connection is pointed at a port where no server listens, or the
server ends our session (`pg_terminate_backend`) between two requests. Nothing of ours is
replaced."""

import socket

import pytest
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

from oms.api.errors import exception_handler
from tests.sessions import other_session

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_service_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert set(body) == {"code", "detail", "errors", "extra"}


def test_an_unreachable_database_is_a_503_with_retry_after(web_api, monkeypatch):
    # given: the API key exists, then the database stops answering (refused connections)
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(_closed_port()))
    try:
        # when
        response = web_api.get("/api/v1/orders/")
    finally:
        connection.close()

    # then
    _assert_service_unavailable(response)


def test_a_session_the_server_ended_is_a_503_then_replaced(web_api):
    # given: a warm connection, then the server ends that session (a failover, an admin's kill)
    assert web_api.get("/api/v1/orders/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with other_session(connection.settings_dict) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    # when: the next request runs on the ended session
    response = web_api.get("/api/v1/orders/")

    # then: a 503 to retry, not a 500; at the request's end Django drops the broken connection
    # (request_finished runs close_old_connections in a server; the test client does not), and
    # the request after that is served on a new one
    _assert_service_unavailable(response)
    close_old_connections()
    assert web_api.get("/api/v1/orders/").status_code == 200


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_both_kinds_of_lost_connection_map_to_503(error):
    # a connection that breaks mid-request raises either, depending on where it broke
    _assert_service_unavailable_response(exception_handler(error, {}))


def _assert_service_unavailable_response(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.data["code"] == "service_unavailable"


def test_the_health_check_sends_nothing_on_a_quiet_connection(web_api, monkeypatch):
    # given: a warm connection (oms/core/postgresql/base.py)
    assert web_api.get("/api/v1/orders/").status_code == 200
    checks = []
    wrapper = connections["default"]
    # Django's own check (its SELECT 1), which oms's backend calls only when the socket is
    # not quiet
    django_backend = type(wrapper).__mro__[1]
    real_is_usable = django_backend.is_usable
    monkeypatch.setattr(
        django_backend, "is_usable", lambda self: checks.append(1) or real_is_usable(self)
    )
    raw = wrapper.connection

    # when: two requests, each after request_started's close_old_connections
    for _ in range(2):
        close_old_connections()
        assert web_api.get("/api/v1/orders/").status_code == 200

    # then: no SELECT 1 was sent, and the connection is the same
    assert checks == []
    assert wrapper.connection is raw
