"""Request headers read from META, where WSGI puts them (`X-Correlation-ID` → META
`HTTP_X_CORRELATION_ID`).

`request.headers` gives the same values, but Django builds that mapping from every key of META
on first use (20-30 of them under gunicorn): about 35 us per request for the one or two headers
an API call reads (docs/performance.md). The API's hot paths (correlation id, API key,
Idempotency-Key) read them here instead.
"""

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=64)
def meta_key(name: str) -> str:
    """The META key WSGI gives header `name`: 'Idempotency-Key' → 'HTTP_IDEMPOTENCY_KEY'."""
    return "HTTP_" + name.upper().replace("-", "_")


def request_header(request: Any, name: str) -> Any:
    """Header `name` of a Django or DRF request as `request.headers.get(name)` gives it, None
    when absent. (Content-Type and Content-Length, which WSGI keeps without the HTTP_ prefix,
    are not read here.)"""
    return request.META.get(meta_key(name))
