"""Django's PostgreSQL backend with a health check that costs no round trip when the
connection is quiet (DATABASES ENGINE "oms.core.postgresql", set in oms/settings.py).

With CONN_HEALTH_CHECKS (`DB_CONN_HEALTH_CHECKS`, on by default) Django checks a persistent
connection before the first query of each request or task with `SELECT 1`: one more round trip
to PostgreSQL on every request (a hot read like GET /api/v1/availability/ makes only one or two
of its own). A session that the server ended (a restart, a failover, pg_terminate_backend, the
server process gone) leaves the connection's socket readable: PostgreSQL sends its FATAL
message and closes the socket, or the kernel closes it with the dead process. So the check
first asks the kernel, without waiting (poll with a zero timeout), whether anything is waiting
on the socket; between two requests nothing is, on a healthy idle connection. Only when
something is (an ended session; or a notice or notification that arrived in between) is
Django's own `SELECT 1` run, and the connection is replaced if that fails, as before.

What it does not see is what `SELECT 1` would only see after a timeout anyway, or at once by
a reset: a peer that vanished without closing (a host powered off, a partition). The request
that then meets the dead socket fails (503 `service_unavailable`, oms/api/errors.py) and Django
drops the connection at its end (`errors_occurred`), as it does for a session ended in the
middle of a request. tests/api/test_database_unavailable.py ends real sessions.
"""

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    # Django's own (BaseDatabaseWrapper.__init__ and connect()), for the type checker
    health_check_enabled: bool
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _quiet(conn: Any) -> bool:
    """Whether a psycopg connection is open, idle, with nothing waiting to be read."""
    try:
        if conn.closed or conn.broken:
            return False
        pgconn = conn.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:  # noqa: BLE001 - anything odd: let Django's own check decide
        return False
