"""/metrics (Prometheus text format, restricted) and /readyz (database and broker).

/healthz (liveness) stays in oms/api/views.py: see docs/observability.md."""

import hmac
import ipaddress
import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from oms.observability.metrics import render_latest

logger = logging.getLogger(__name__)


def _client_allowed(request: HttpRequest) -> bool:
    """Debug: an allowed address or the token. Otherwise (OMS_METRICS_REQUIRE_TOKEN) the token
    is required, and the address must be allowed as well; no token configured = nobody."""
    token = getattr(settings, "OMS_METRICS_BEARER_TOKEN", "")
    header = request.headers.get("Authorization", "")
    token_ok = bool(token) and hmac.compare_digest(
        header.removeprefix("Bearer ").encode() if header.startswith("Bearer ") else b"",
        token.encode(),
    )
    if getattr(settings, "OMS_METRICS_REQUIRE_TOKEN", False):
        return token_ok and _address_allowed(request)
    if token and header.startswith("Bearer "):
        return token_ok
    return _address_allowed(request)


def _address_allowed(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for allowed in getattr(settings, "OMS_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"]):
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            logger.warning("bad entry in OMS_METRICS_ALLOWED_IPS", extra={"entry": allowed})
    return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _client_allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    body, content_type = render_latest()
    return HttpResponse(body, content_type=content_type)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker(url: str, timeout: float) -> None:
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry_on_timeout=False
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu import Connection

    with Connection(url, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)  # type: ignore[arg-type]  # kombu takes float seconds; celery-types says int


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready = the database answers SELECT 1 and, when a broker is configured, it answers a
    ping within OMS_READYZ_BROKER_TIMEOUT seconds. 503 names what failed."""
    checks: dict[str, str] = {}
    try:
        check_database()
        checks["database"] = "ok"
    except Exception as exc:
        logger.warning("readyz: database check failed", extra={"error": str(exc)})
        checks["database"] = "failed"
    broker_url = getattr(settings, "CELERY_BROKER_URL", "")
    if broker_url:
        try:
            check_broker(broker_url, getattr(settings, "OMS_READYZ_BROKER_TIMEOUT", 1.5))
            checks["broker"] = "ok"
        except Exception as exc:
            logger.warning("readyz: broker check failed", extra={"error": str(exc)})
            checks["broker"] = "failed"
    else:
        checks["broker"] = "not_configured"
    failed = sorted(name for name, result in checks.items() if result == "failed")
    body = {"status": "unavailable" if failed else "ok", "checks": checks, "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)
