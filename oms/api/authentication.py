"""`Authorization: Bearer <key>` for API clients. The authenticated principal is the ApiClient
(request.auth); request.user stays None because API clients are not people."""

import threading
from typing import Any

from django.db import connections, router
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from oms.api.clients import API_CLIENTS_CHANGED, ApiClientLike, api_client_model
from oms.api.keys import matches, split_prefix
from oms.core.headers import request_header
from oms.core.postgresql.base import has_input
from oms.core.queries import CompiledLookup, update_row

# The key's row by its prefix, on every request: its SQL compiled once, the prefix bound by the
# server and the statement prepared after a few runs on a connection (oms/core/queries.py).
_client_by_prefix: CompiledLookup[Any] = CompiledLookup(
    lambda prefix: api_client_model()._default_manager.authenticating(prefix),  # type: ignore[attr-defined]  # the port's contract (oms/api/clients.py)
    bound=True,
)


class _ClientCache:
    """API clients by key prefix, kept per process, as exact as reading the row every time.

    Triggers (orders migration 0010) NOTIFY `API_CLIENTS_CHANGED` in any transaction that
    changes, deletes or truncates an API client or a channel (a revocation, a channel edited,
    a key's last use recorded); PostgreSQL hands it to every listening session as that
    transaction commits. This process LISTENs on the connection it authenticates with and
    forgets every kept client on any notification: one that comes with a query's results
    (psycopg calls the handler of _Listening), or one that came while the connection was idle:
    before a kept client is used, the socket is polled with no wait, and when anything at all
    is waiting (a notification, or an ended session's goodbye) the notifications are handed on
    and that request reads the row. A row read while a notification came in is not kept (the
    generation). So a revoked key is refused by the first request that starts once the
    revocation's commit has reached this process's session (PostgreSQL passes it on as it
    commits: well under a millisecond on a live machine).

    Kept only on PostgreSQL, in autocommit (inside a transaction, as in tests or under
    ATOMIC_REQUESTS, the row is read), for the connection that LISTENs: a new connection (a
    restart, CONN_MAX_AGE) starts empty and LISTENs again. Unknown prefixes are never kept.
    tests/api/test_api_key_cache.py revokes keys (service, raw SQL from another session),
    deletes and truncates them, edits channels and ends sessions under it.
    """

    MAX_KEPT = 10_000

    def __init__(self) -> None:
        self._local = threading.local()  # Django's connections are per thread

    def _db(self) -> Any:
        return connections[router.db_for_read(api_client_model())]

    def get(self, prefix: str) -> tuple[ApiClientLike | None, int]:
        """The kept client of `prefix` (None: read the row), and the generation to hand back
        to put() with the row read."""
        listening: _Listening | None = getattr(self._local, "listening", None)
        if listening is None:
            return None, -1
        db = self._db()
        if db.connection is not listening.conn or db.in_atomic_block or not _drain(db.connection):
            listening.forget()
        return listening.kept.get(prefix), listening.generation

    def put(self, prefix: str, client: ApiClientLike, generation: int) -> None:
        """Keep the row read for `prefix`, unless a notification came in since get() (it may
        be about a change that the row read did not see yet)."""
        db = self._db()
        if db.vendor != "postgresql" or db.in_atomic_block or not db.get_autocommit():
            return
        listening = getattr(self._local, "listening", None)
        if listening is None or listening.conn is not db.connection:
            self._local.listening = None
            conn = db.connection
            if conn is None:
                return
            candidate = _Listening(conn)
            with db.cursor() as cursor:
                cursor.execute(f"LISTEN {API_CLIENTS_CHANGED}")
            if db.connection is not conn:  # replaced meanwhile
                return
            self._local.listening = candidate
            return  # nothing kept from before the LISTEN: the next request reads again
        if generation != listening.generation:
            return
        if len(listening.kept) >= self.MAX_KEPT:
            listening.forget()
        listening.kept[prefix] = client


class _Listening:
    """The clients kept for one connection that LISTENs, and how many times they were
    forgotten (a notification, or a socket that was not quiet)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.kept: dict[str, ApiClientLike] = {}
        self.generation = 0
        conn.add_notify_handler(lambda _notify: self.forget())

    def forget(self) -> None:
        self.kept.clear()
        self.generation += 1


def _drain(conn: Any) -> bool:
    """Whether an idle psycopg connection had nothing waiting on its socket (the kept clients
    hold). When something was waiting, its notifications are handed to the connection's
    handlers and the answer is False: it may as well be the server's goodbye (an ended session
    sends its FATAL message, then closes), which only the row's read, after Django's health
    check, settles."""
    try:
        if conn.closed or conn.broken:
            return False
        pgconn = conn.pgconn
        if not has_input(pgconn.socket):  # the health check's own look at the socket
            return True
        pgconn.consume_input()
        while (notify := pgconn.notifies()) is not None:
            if pgconn.notify_handler:
                pgconn.notify_handler(notify)
    except Exception:  # noqa: BLE001, S110 - anything odd: read the row, Django's checks decide
        pass
    return False


_CLIENTS = _ClientCache()

# last_used_at is written at most this often per client, so hot clients do not turn every read
# into a write on their own row.
_TOUCH_EVERY_SECONDS = 60


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiClientLike] | None:
        # Not DRF's get_authorization_header(), which reads request.headers (oms/core/headers.py)
        header = request_header(request, "Authorization") or ""
        if isinstance(header, bytes):  # a test client may hand bytes; WSGI hands latin-1 str
            header = header.decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword or not key.strip():
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: Bearer <api key>'.", code="invalid_authorization_header"
            )
        key = key.strip()
        prefix = split_prefix(key)
        model = api_client_model()
        client: ApiClientLike | None = None
        if prefix:
            client, generation = _CLIENTS.get(prefix)
            if client is None:
                client = _client_by_prefix(prefix)
                if client is not None:
                    _CLIENTS.put(prefix, client, generation)
        if client is None or not matches(key, client.key_hash):
            raise exceptions.AuthenticationFailed("Unknown API key.", code="invalid_api_key")
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This API key was revoked.", code="api_key_revoked"
            )
        now = timezone.now()
        if (
            client.last_used_at is None
            or (now - client.last_used_at).total_seconds() > _TOUCH_EVERY_SECONDS
        ):
            update_row(model, client.pk, {"last_used_at": now})
        return (None, client)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API client key."}
