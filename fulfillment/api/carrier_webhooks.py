"""Carrier tracking webhooks: POST /api/v1/webhooks/carriers/<format>/.

Authenticated by the provider's signature (secret per format in OMS_CARRIER_WEBHOOK_SECRETS),
not by an API key. Every update is applied once (inbound message log keyed on the provider's
message id or the content), unknown tracking numbers are acknowledged and ignored, malformed
bodies are a 400 with a code the provider's dashboard shows.

An update we refuse (our state, not the carrier's message) is still answered 200 and counted in
`refused`: it is kept as a failed inbound message that we retry with backoff, then dead with an
exception case (docs/inbound.md). Answering an error would leave the retry to each provider's
own schedule, resend the body's other updates and can get the endpoint disabled, while the
carrier cannot fix anything. Only `message_id_reused` (the same id with other content: the
sender's fault, and it cannot be kept under an id that is taken) is still a 409.
"""

import hashlib
from dataclasses import asdict
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.services.shipping import apply_tracking_updates
from integrations.carriers import TRACKING_FORMATS, TrackingPayloadInvalid
from oms.api.input_limits import check_raw_json
from oms.core.actors import Actor
from oms.core.errors import DomainError, NotFound


class WebhookSignatureInvalid(DomainError):
    def __init__(self, fmt: str) -> None:
        super().__init__(
            code="invalid_signature",
            http_status=401,
            detail=f"The {fmt} webhook signature does not verify.",
        )


class CarrierTrackingWebhookView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Carrier tracking webhook (EasyPost, Shippo, AfterShip, UPS)",
        tags=["webhooks"],
        request=None,
        responses={200: None},
    )
    def post(self, request: Request, fmt: str) -> Response:
        tracking_format = TRACKING_FORMATS.get(fmt)
        if tracking_format is None:
            raise NotFound(f"No carrier webhook format {fmt!r}.", code="unknown_webhook_format")
        raw = request.body
        secret = settings.OMS_CARRIER_WEBHOOK_SECRETS.get(fmt, "")
        if secret:
            if not tracking_format.verify(raw, dict(request.headers), secret):
                raise WebhookSignatureInvalid(fmt)
        elif not settings.OMS_CARRIER_WEBHOOKS_ALLOW_UNSIGNED:
            raise WebhookSignatureInvalid(fmt)
        check_raw_json(raw)  # NUL, depth, size (oms/api/input_limits.py): never a 500
        try:
            updates = tracking_format.parse(raw, dict(request.headers))
        except TrackingPayloadInvalid as exc:
            raise DomainError(code=exc.code, detail=str(exc), http_status=400) from exc
        result = apply_tracking_updates(
            updates,
            source=f"carrier:{fmt}",
            message_id=hashlib.sha256(raw).hexdigest(),
            actor=Actor.system(f"carrier webhook ({fmt})"),
        )
        return Response(asdict(result))
