"""`check --deploy`: /metrics outside debug needs its bearer token (docs/security.md)."""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def metrics_token_configured(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.OMS_METRICS_REQUIRE_TOKEN and not settings.OMS_METRICS_BEARER_TOKEN:
        return [
            checks.Warning(
                "OMS_METRICS_REQUIRE_TOKEN is on but OMS_METRICS_BEARER_TOKEN is empty: "
                "/metrics answers nobody.",
                hint="Set OMS_METRICS_BEARER_TOKEN (at least 32 characters) for the scraper.",
                id="oms.W001",
            )
        ]
    if settings.OMS_METRICS_BEARER_TOKEN and len(settings.OMS_METRICS_BEARER_TOKEN) < 32:
        return [
            checks.Warning("OMS_METRICS_BEARER_TOKEN is shorter than 32 characters.", id="oms.W002")
        ]
    return []
