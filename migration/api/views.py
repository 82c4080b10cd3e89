"""Cutover API views: authenticate, validate, call one service or selector, render.

A channel's key sees its own channel only: any other channel code is a 404."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from migration.api.serializers import (
    CutoverStatusOutputSerializer,
    LegacyCancelInputSerializer,
    LegacyOrderInputSerializer,
)
from migration.selectors import channel_order, cutover_status
from migration.services.legacy_cancellation import LEGACY_CANCEL_REASON, apply_legacy_cancellation
from migration.services.shadow import mirror_legacy_order
from oms.api.errors import ERROR_SCHEMA
from oms.api.idempotency import run_idempotent_request
from oms.api.permissions import IsChannelClient, client_of
from oms.core.actors import Actor
from oms.core.errors import NotFound
from orders.api.serializers import OrderOutputSerializer
from orders.api.views import IDEMPOTENCY_PARAMETER


def _own_channel(request: Request, channel_code: str) -> Any:
    channel = client_of(request).channel
    if channel is None or channel.code != channel_code:
        raise NotFound(f"No channel {channel_code!r}.", code="channel_not_found")
    return channel


class CutoverStatusView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="The channel's cutover mode and share",
        tags=["cutover"],
        responses={200: CutoverStatusOutputSerializer, 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, channel_code: str) -> Response:
        channel = _own_channel(request, channel_code)
        return Response(CutoverStatusOutputSerializer(cutover_status(channel)).data)


class LegacyOrderMirrorView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Mirror an order the legacy system took, with its decision",
        description="The legacy feed during a cutover: the order is stored for the shadow run "
        "and the dashboard, never routed, reserved or sent back to the legacy system.",
        tags=["cutover"],
        request=LegacyOrderInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OrderOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input (see errors[])"),
            404: OpenApiResponse(ERROR_SCHEMA, description="channel_not_found"),
            409: OpenApiResponse(ERROR_SCHEMA, description="duplicate_order"),
            413: OpenApiResponse(ERROR_SCHEMA, description="payload_too_large"),
            422: OpenApiResponse(ERROR_SCHEMA, description="idempotency_key_reused"),
        },
    )
    def post(self, request: Request, channel_code: str) -> Response:
        channel = _own_channel(request, channel_code)
        client = client_of(request)

        def create() -> Response:
            serializer = LegacyOrderInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            order = mirror_legacy_order(
                channel=channel,
                data=serializer.to_order_input(),
                allocations=serializer.allocations(),
                actor=Actor.for_api_client(client),
            )
            return Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED)

        return run_idempotent_request(request, create)


class LegacyOrderCancelView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="The legacy system cancelled a mirrored order (whole or some units)",
        description="Applied through the order cancel services (events, no node asked: oms "
        "does not own the order); the order leaves the shadow comparison. Without `lines` the "
        "whole order; a resend for a cancelled order changes nothing.",
        tags=["cutover"],
        request=LegacyCancelInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: OrderOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input (see errors[])"),
            404: OpenApiResponse(ERROR_SCHEMA, description="channel_not_found, order_not_found"),
            409: OpenApiResponse(ERROR_SCHEMA, description="order_not_mirrored, not_cancellable"),
            422: OpenApiResponse(ERROR_SCHEMA, description="idempotency_key_reused"),
        },
    )
    def post(self, request: Request, channel_code: str, external_id: str) -> Response:
        channel = _own_channel(request, channel_code)
        client = client_of(request)

        def cancel() -> Response:
            serializer = LegacyCancelInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            order = channel_order(channel, external_id)
            apply_legacy_cancellation(
                order_id=order.pk,
                actor=Actor.for_api_client(client),
                source="api",
                lines=serializer.cancellations(),
                reason=serializer.validated_data.get("reason") or LEGACY_CANCEL_REASON,
            )
            order.refresh_from_db()
            return Response(OrderOutputSerializer(order).data)

        return run_idempotent_request(request, cancel)
