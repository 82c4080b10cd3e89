"""Request rates per API client (DRF throttling, docs/security.md).

An authenticated call counts against its ApiClient (request.auth) at OMS_API_RATE; a call
without a key (carrier webhooks, anything AllowAny) counts against the caller's IP at
OMS_API_ANON_RATE. Counters live in Django's cache (Redis when REDIS_URL is set, so every
process counts together). Over the rate: 429 `throttled` with Retry-After (oms/api/errors.py).
Rates are read from settings at each request, so they can be changed in a test.

When the cache cannot be reached (Redis restarting, paused, partitioned) the call is let
through and a warning logged: the rate limit is a guard against abuse, and making Redis a hard
dependency of order capture would turn a cache outage into an API outage
(tests/chaos/test_faults.py; docs/security.md).
"""

import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from oms.core.transactions import BROKER_ERRORS

logger = logging.getLogger(__name__)


class ApiClientRateThrottle(SimpleRateThrottle):
    cache_format = "throttle_%(scope)s_%(ident)s"

    def __init__(self) -> None:  # the rate depends on the caller: chosen in allow_request
        self.rate: str | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.auth
        if client is not None and getattr(client, "pk", None) is not None:
            self.scope, self.rate = "api_client", settings.OMS_API_RATE
        else:
            self.scope, self.rate = "api_anon", settings.OMS_API_ANON_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except BROKER_ERRORS as exc:  # Redis errors, timeouts, refused connections
            logger.warning("rate limit not checked: the cache is unavailable (%r)", exc)
            return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = request.auth
        # the client's pk was checked in allow_request; without one, the caller's address
        ident = str(getattr(client, "pk", "")) if self.scope == "api_client" else None
        ident = ident or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
