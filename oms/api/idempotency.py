"""Idempotency-Key handling for API writes.

Contract (docs/api.md): the same key with the same request returns the first response again
with `Idempotent-Replayed: true`; the same key with a different request is refused with 422
`idempotency_key_reused`; a request while the first with that key still runs gets 409
`idempotency_key_in_use`. 2xx and 4xx responses are kept; after a 5xx nothing is kept, so the
client retries with the same key. Keys are per API client and kept OMS_IDEMPOTENCY_KEY_TTL.

Two transactions: the claim commits on its own, so concurrent duplicates see it at once; the
work and the stored response commit together, so a crash can never leave an order without its
key marked done. A claim whose request died (process killed) frees itself after
OMS_IDEMPOTENCY_LOCK_TIMEOUT.

On PostgreSQL a claim also records the database session (backend pid) of the request that
made it. A session ends with its process or its database (a gunicorn worker killed, PostgreSQL
restarted), so a retry that finds the claim still in progress but its session gone knows the
first request is dead, and takes the key over at once instead of answering 409 until the lock
timeout (tests/chaos/test_faults.py: PostgreSQL restarted mid-load). The pid comes from the
connection itself: the claim costs no extra statement.
"""

import enum
import hashlib
import json
import re
from collections.abc import Callable
from contextlib import nullcontext, suppress
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from oms.api.clients import ApiClientLike
from oms.api.errors import domain_error_response, exception_handler
from oms.api.models import IdempotencyKey, IdempotencyKeyStatus
from oms.api.permissions import client_of
from oms.core.errors import DomainError
from oms.core.headers import request_header
from oms.core.queries import insert_unless_conflict_bound, new_row, update_row
from oms.core.transactions import DATABASE_ERRORS

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class _Claim(enum.Enum):
    NEW = "new"
    REPLAY = "replay"


class InvalidIdempotencyKey(DomainError):
    def __init__(self) -> None:
        super().__init__(
            code="invalid_idempotency_key",
            detail="Idempotency-Key must be 1 to 255 visible ASCII characters.",
            http_status=400,
        )


class IdempotencyKeyReused(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(
            code="idempotency_key_reused",
            detail=f"Idempotency-Key {key!r} was already used for a different request.",
            http_status=422,
        )


class IdempotencyKeyInUse(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(
            code="idempotency_key_in_use",
            detail=f"A request with Idempotency-Key {key!r} is still being processed. Retry later.",
            http_status=409,
        )


def request_fingerprint(method: str, path: str, data: Any) -> str:
    """Same method, path and JSON content (key order and whitespace ignored) → same print."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def run_idempotent(
    *,
    client: ApiClientLike,
    key: str | None,
    method: str,
    path: str,
    data: Any,
    handler: Callable[[], Response],
    atomic: bool = True,
) -> Response:
    """Run `handler` at most once per (client, key); without a key, just run it.

    `atomic=False` is for a handler that calls an external system (a payment provider) and is
    idempotent by itself: it runs outside a transaction (its services commit their own steps
    around the call), and its response is stored after it."""
    if key is None:
        return handler()
    if not _VALID_KEY.match(key):
        raise InvalidIdempotencyKey()
    fingerprint = request_fingerprint(method, path, data)
    claim, record = _claim(
        client=client, key=key, method=method, path=path, fingerprint=fingerprint
    )
    if claim is _Claim.REPLAY:
        return Response(
            record.response_body,
            status=record.response_status,
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        with transaction.atomic() if atomic else nullcontext():
            response = handler()
            _complete(record, response)
        return response
    except DomainError as exc:
        response = domain_error_response(exc)
    except APIException as exc:
        maybe = exception_handler(exc, {})
        if maybe is None:
            _release(record)
            raise
        response = maybe
    except BaseException:
        _release_after_failure(record)
        raise
    if response.status_code >= 500:
        _release(record)
    else:
        _complete(record, response)
    return response


def run_idempotent_request(
    request: Request, handler: Callable[[], Response], *, atomic: bool = True
) -> Response:
    """`run_idempotent()` for an API view's write: the request's client, its Idempotency-Key
    header, method, path and body. The one helper every app's POST views use."""
    return run_idempotent(
        atomic=atomic,
        client=client_of(request),
        key=request_header(request, HEADER),
        method=request.method or "POST",  # a routed request always has one
        path=request.path,
        data=request.data,
        handler=handler,
    )


def _session_id() -> int | None:
    """This connection's PostgreSQL backend pid (known to the client: no query), or None."""
    conn = transaction.get_connection()
    if conn.vendor != "postgresql":
        return None
    conn.ensure_connection()
    return int(conn.connection.info.backend_pid)


def _claimer_gone(record: IdempotencyKey) -> bool:
    """Whether the database session that claimed the key has ended (so its request is dead).
    Unknown (no session recorded, not PostgreSQL) counts as alive: the lock timeout decides."""
    if record.claimed_by_session is None:
        return False
    own = _session_id()
    if own is None:
        return False
    if own == record.claimed_by_session:
        return True  # this very connection claimed it, so that request is over
    with transaction.get_connection().cursor() as cursor:
        # PostgreSQL keeps what pg_stat_activity showed first in a transaction until the
        # transaction ends: inside a caller's transaction that read it before, a session that
        # has ended since would still be listed (409 until the lock timeout), and one that
        # started since would be missing (its key taken over while it runs). A new snapshot.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)",
            [record.claimed_by_session],
        )
        return bool(cursor.fetchone()[0])


def _claim(
    *, client: ApiClientLike, key: str, method: str, path: str, fingerprint: str
) -> tuple[_Claim, IdempotencyKey]:
    # Two passes at most: a key deleted between our failed INSERT and our SELECT (its first
    # request ended in a 5xx) is simply claimed again.
    for _attempt in range(2):
        now = timezone.now()
        lock_until = now + settings.OMS_IDEMPOTENCY_LOCK_TIMEOUT
        record = new_row(
            IdempotencyKey,
            api_client_id=client.pk,  # the port: the kernel holds an ApiClientLike
            key=key,
            method=method,
            path=path,
            fingerprint=fingerprint,
            status=IdempotencyKeyStatus.IN_PROGRESS,
            locked_until=lock_until,
            claimed_by_session=_session_id(),
            created_at=now,
            expires_at=now + settings.OMS_IDEMPOTENCY_KEY_TTL,
        )
        # The common case, a new key: one INSERT ... ON CONFLICT DO NOTHING, without the query
        # compiler (oms/core/queries.py). Outside any transaction (a request) it commits on its
        # own, in one round trip; inside one (a test, a caller's atomic block) a conflict
        # raises nothing, so the caller's transaction stays usable without a savepoint.
        if insert_unless_conflict_bound(record):
            return _Claim.NEW, record
        # the key exists: decide under its row lock
        with transaction.atomic():
            found = (
                IdempotencyKey.objects.select_for_update(of=("self",))
                .filter(api_client_id=client.pk, key=key)
                .first()
            )
            if found is None:
                continue
            return _decide(
                found,
                method=method,
                path=path,
                fingerprint=fingerprint,
                now=now,
                lock_until=lock_until,
            )
    raise IdempotencyKeyInUse(key)


def _decide(
    record: IdempotencyKey,
    *,
    method: str,
    path: str,
    fingerprint: str,
    now: Any,
    lock_until: Any,
) -> tuple[_Claim, IdempotencyKey]:
    if record.expires_at <= now:
        # An expired key is a new key: start over in the same row.
        _reset(record, method=method, path=path, fingerprint=fingerprint, now=now)
        return _Claim.NEW, record
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key=record.key)
    if record.status == IdempotencyKeyStatus.COMPLETED:
        return _Claim.REPLAY, record
    if record.locked_until is not None and record.locked_until > now and not _claimer_gone(record):
        raise IdempotencyKeyInUse(record.key)
    # The first request died without finishing (its work rolled back): take the key over.
    record.locked_until = lock_until
    record.claimed_by_session = _session_id()
    record.save(update_fields=["locked_until", "claimed_by_session"])
    return _Claim.NEW, record


def _reset(record: IdempotencyKey, *, method: str, path: str, fingerprint: str, now: Any) -> None:
    record.method, record.path, record.fingerprint = method, path, fingerprint
    record.status = IdempotencyKeyStatus.IN_PROGRESS
    record.locked_until = now + settings.OMS_IDEMPOTENCY_LOCK_TIMEOUT
    record.claimed_by_session = _session_id()
    record.response_status, record.response_body = None, None
    record.created_at, record.expires_at = now, now + settings.OMS_IDEMPOTENCY_KEY_TTL
    record.save()


def _complete(record: IdempotencyKey, response: Response) -> None:
    # The UPDATE of every keyed write, without the query compiler, its values (the stored
    # response among them) bound by the server and the statement prepared (oms/core/queries.py).
    update_row(
        IdempotencyKey,
        record.pk,
        {
            "status": IdempotencyKeyStatus.COMPLETED,
            "locked_until": None,
            "response_status": response.status_code,
            "response_body": response.data,
        },
        bound=True,
    )


def _release(record: IdempotencyKey) -> None:
    """Forget the key after a 5xx or a crash so the client can retry with it."""
    IdempotencyKey.objects.filter(pk=record.pk, status=IdempotencyKeyStatus.IN_PROGRESS).delete()


def _release_after_failure(record: IdempotencyKey) -> None:
    """_release() after an exception, which may be the database going away (a restart): the
    request's connection is then dead, so try once more on a fresh one; if the database is
    still down, the claim frees itself after OMS_IDEMPOTENCY_LOCK_TIMEOUT (meanwhile a retry
    gets 409 idempotency_key_in_use, which says to retry later)."""
    try:
        _release(record)
        return
    except DATABASE_ERRORS:
        if transaction.get_connection().in_atomic_block:
            return  # a caller's transaction (a test): leave its connection alone
        transaction.get_connection().close()
    with suppress(*DATABASE_ERRORS):
        _release(record)


def purge_expired_keys() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
