"""Request rates per API client (DRF throttling, docs/security.md).

An authenticated call counts against its ApiClient (request.auth) at OMS_API_RATE; a call
without a key (carrier webhooks, anything AllowAny) counts against the caller's IP at
OMS_API_ANON_RATE. Over the rate: 429 `throttled` with Retry-After (oms/api/errors.py).
Rates are read from settings at each request, so they can be changed in a test.

Counting is a fixed window: one counter per caller and window (the rate's period, aligned to
the epoch), kept in Django's cache under the cache's own key prefix. On Redis (REDIS_URL set,
so every process counts together) a request is **one round trip**: INCR and EXPIRE of its
window's counter in one pipeline. DRF's SimpleRateThrottle made two (GET, then SET of a pickled
list of every request time in the period: 6,000 floats at the default rate). A refused request
waits until its window ends (Retry-After). Unlike the sliding log, a client can spend its budget
at the end of one window and again at the start of the next (at most twice the rate over one
period, never more than the rate within a window). Other caches (the embedded demo's memory, the
tests') count with add() and incr().

At high rates a process takes its counts from Redis a few at a time (a lease): one INCRBY of
n answers for this request and the next n - 1 of the same caller in this process, in the same
window, which then make no round trip. n is 1 below 1,000 requests per period (every call
counts in Redis, as above), rate // 1,000 above that, at most 8 (6000/min: 6). A lease is
granted only from the budget: when INCRBY n passes the limit, the process gets what was left
(possibly nothing: 429), so the rate is never exceeded; what a process leased and did not use
is lost for that window, so near its limit a caller may be refused up to (processes × (n - 1))
calls early in a window, never served more than the rate.

When the cache cannot be reached (Redis restarting, paused, partitioned) each process counts on
its own, in memory, with the same windows and limits, and logs a warning (once per window): the
limit then holds per process (at most the number of web processes times the rate overall)
instead of not at all, and order capture does not depend on Redis: a cache outage is not an API
outage (tests/chaos/test_faults.py; docs/security.md). Counting goes back to Redis with the next
call that reaches it.
"""

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from oms.core.transactions import BROKER_ERRORS

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'6000/min' → (6000, 60), as DRF reads a rate (the period's first letter)."""
    num, period = rate.split("/")
    return int(num), _PERIODS[period[0]]


class ApiClientRateThrottle(BaseThrottle):
    cache_alias = "default"

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.auth
        if client is not None and getattr(client, "pk", None) is not None:
            scope, rate, ident = "api_client", settings.OMS_API_RATE, str(client.pk)
        else:
            scope, rate, ident = "api_anon", settings.OMS_API_ANON_RATE, self.get_ident(request)
        if rate is None:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle_{scope}_{ident}_{period}_{window}"
        cache = caches[self.cache_alias]
        batch = lease_size(limit) if isinstance(cache, RedisCache) else 1
        lease = (cache.key_prefix, key, limit)
        if batch > 1 and _LEASES.take(lease, now):
            return True
        try:
            count = _hit(cache, key, period, batch)
        except BROKER_ERRORS as exc:  # Redis errors, timeouts, refused connections
            count, batch = _LOCAL.hit(key, period, window, exc), 1
        # Of the `batch` counts just taken, those within the limit are this process's to serve.
        granted = min(batch, limit - (count - batch))
        if granted > 0:
            if granted > 1:
                _LEASES.put(lease, granted - 1, (window + 1) * period)
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self._wait


class _LocalWindows:
    """This process's counters while the shared cache is unreachable: one per caller and window,
    only the current windows kept (a new window drops the older ones)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        # key → (its period, its window), to drop the windows gone by of the same period
        self._window: dict[str, tuple[int, int]] = {}
        self._warned: int | None = None

    def hit(self, key: str, period: int, window: int, error: BaseException) -> int:
        with self._lock:
            gone = [k for k, (p, w) in self._window.items() if p == period and w < window]
            for old in gone:
                del self._counts[old], self._window[old]
            self._counts[key] = self._counts.get(key, 0) + 1
            self._window[key] = (period, window)
            count = self._counts[key]
            warn, self._warned = self._warned != window, window
        if warn:
            logger.warning(
                "rate limit counted in this process only: the cache is unavailable (%r)", error
            )
        return count


_LOCAL = _LocalWindows()

# Leases: rates from this many requests per period up are counted in Redis a few at a time.
_LEASE_FROM = 1000
_LEASE_MAX = 8


def lease_size(limit: int) -> int:
    """How many counts one round trip takes for a caller at `limit` per period."""
    return max(1, min(_LEASE_MAX, limit // _LEASE_FROM))


class _Leases:
    """Counts this process took from Redis and has not served yet: per (cache key prefix,
    window key, limit), until the window ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[
            tuple[str, str, int], tuple[int, float]
        ] = {}  # → (counts left, window end)

    def take(self, key: tuple[str, str, int], now: float) -> bool:
        with self._lock:
            left, ends = self._left.get(key, (0, 0.0))
            if left <= 0 or now >= ends:
                return False
            if left == 1:
                del self._left[key]
            else:
                self._left[key] = (left - 1, ends)
            return True

    def put(self, key: tuple[str, str, int], left: int, ends: float) -> None:
        with self._lock:
            if len(self._left) >= 256:  # windows gone by (callers that stopped calling)
                now = time.time()
                for old in [k for k, (_, e) in self._left.items() if e <= now]:
                    del self._left[old]
            self._left[key] = (left, ends)


_LEASES = _Leases()


def _hit(cache: Any, key: str, period: int, batch: int = 1) -> int:
    """Count `batch` requests in the window's counter and return the count so far."""
    if isinstance(cache, RedisCache):
        # Django's key (KEY_PREFIX, version), so cache.get(key) reads the counter (an int is
        # stored as a plain integer by Django's Redis serializer, so INCR works on it).
        full_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full_key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key, batch)
        pipe.expire(full_key, period)
        count, _ = pipe.execute()
        return int(count)
    cache.add(key, 0, timeout=period)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add() and incr(): a new window's first request
        cache.add(key, 1, timeout=period)
        return 1
