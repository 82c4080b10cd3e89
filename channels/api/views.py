"""Platform webhooks: POST /webhooks/<platform>/<channel code>/.

Authenticated by the platform's signature over the raw body with the channel's webhook secret,
not by an API key. A bad or missing signature is a 401 and nothing is stored; an unknown
channel (or one of another platform) is a 404; a body that is not the platform's is a 400. Each
notice is then applied once (channels/services/inbound.py) and the answer lists what happened:
a refused order is still a 200 (kept in the inbound log with its code and a case for a person):
the platform cannot fix our catalogue, and an error would only make it retry and disable the
webhook.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.adapters import adapter_for
from channels.models import ChannelConnection
from channels.services.inbound import receive_notice
from oms.core.errors import DomainError, NotFound


class WebhookSignatureInvalid(DomainError):
    def __init__(self, platform: str) -> None:
        super().__init__(
            code="invalid_signature",
            http_status=401,
            detail=f"The {platform} webhook signature does not verify.",
        )


class PlatformWebhookView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="Sales platform webhook (Shopify, WooCommerce, Amazon, commercetools, Magento)",
        tags=["webhooks"],
        request=None,
        responses={200: None},
    )
    def post(self, request: Request, platform: str, channel_code: str) -> Response:
        adapter = adapter_for(platform)
        connection = (
            ChannelConnection.objects.select_related("channel")
            .filter(channel__code=channel_code, platform=platform)
            .first()
        )
        if adapter is None or connection is None:
            raise NotFound(f"No {platform} channel {channel_code!r}.", code="channel_not_found")
        raw = request.body
        headers = {k.lower(): v for k, v in request.headers.items()}
        secret = connection.webhook_secret
        if not secret or not adapter.verify(raw, headers, secret):
            raise WebhookSignatureInvalid(platform)
        if not connection.inbound_enabled:
            return Response({"results": [{"status": "ignored", "reason": "inbound disabled"}]})
        results = [receive_notice(connection, notice) for notice in adapter.notices(raw, headers)]
        return Response({"results": results})
