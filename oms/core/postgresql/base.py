"""Django's PostgreSQL backend with a connection health check that costs no round trip when
the connection is idle and nothing came from the server.

With CONN_HEALTH_CHECKS (oms/settings.py) Django checks a persistent connection before its
first query of each request or task with a `SELECT 1`: one more round trip, and one more
statement for PostgreSQL, on every API request (the bench's capture request among them).
Here the check first looks at the socket, without blocking: a server that ended the session
(restarted, the backend terminated, the connection closed) has sent its FATAL message or its
end of stream, so the socket is readable; an idle session the server still holds sends
nothing. Nothing to read: the connection is usable, as SELECT 1 would have said. Anything to
read (also a harmless notice), a connection not idle, or the socket unusable: Django's own
`SELECT 1` decides, as before. What is not caught without a round trip is what SELECT 1 would
not catch quickly either: a peer that vanished without closing (its TCP timeout decides).
"""

import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq

_IDLE = pq.TransactionStatus.IDLE


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection: Any = self.connection
        if connection is None or connection.closed:
            return False
        try:
            idle = connection.info.transaction_status == _IDLE
            readable = idle and has_input(connection.fileno())
        except (OSError, ValueError, psycopg.Error):
            return False
        if idle and not readable:
            return True
        return bool(super().is_usable())


def has_input(fd: int) -> bool:
    """Whether the socket has something to read, or was closed or failed (POLLHUP, POLLERR),
    without waiting. poll(), not select(): a descriptor number above 1023 is fine."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
