"""The connection health check (CONN_HEALTH_CHECKS, oms/core/postgresql/base.py): an idle
session the server still holds is usable without a `SELECT 1`; a session the server ended is
not, and is replaced before the request's first query."""

import pytest
from django.db import close_old_connections, connections
from django.db.backends.postgresql import base as django_postgresql

from tests.sessions import other_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def selects(monkeypatch):
    """Counts the checks that went to the server (Django's own SELECT 1)."""
    calls = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(self.alias)
        return original(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def _terminate(pid: int, settings: dict) -> None:
    with other_session(settings) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        # the ended session's socket is readable once the server has closed it
        admin.execute("SELECT pg_sleep(0.2)")


def test_an_idle_session_is_usable_without_a_round_trip(selects):
    connection = connections["default"]
    assert connection.vendor == "postgresql"
    assert type(connection).__module__ == "oms.core.postgresql.base"
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid

    assert connection.is_usable() is True
    assert selects == []  # no SELECT 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid  # the same session


def test_a_session_the_server_ended_is_replaced_before_the_next_query(selects):
    connection = connections["default"]
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    _terminate(pid, connection.settings_dict)

    assert connection.is_usable() is False
    # as a server's next request does: request_started resets the check, the first query runs
    # it, and the dead session is dropped and replaced instead of failing the query
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
