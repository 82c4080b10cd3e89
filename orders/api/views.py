"""Order API views: authenticate, validate, call one service or selector, render."""

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.api.errors import ERROR_SCHEMA
from oms.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from oms.api.idempotency import run_idempotent_request
from oms.api.permissions import IsChannelClient, client_of
from oms.api.serializers import StrictInputSerializer
from oms.core.actors import Actor
from oms.events.redaction import Masker
from orders.api.filters import OrderFilter
from orders.api.order_input import read_order_input
from orders.api.order_output import render_order
from orders.api.serializers import (
    EventOutputSerializer,
    HoldOutputSerializer,
    OrderCreateInputSerializer,
    OrderOutputSerializer,
    OrderSummaryOutputSerializer,
)
from orders.models import HoldKind, Order
from orders.selectors import (
    get_order_for_client,
    order_events_for_client,
    orders_visible_to_client,
)
from orders.services.capture import capture_order
from orders.services.holds import place_hold, release_hold

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID is ideal). Retrying with the same key and body "
    "returns the first response; use a new key after a 4xx, the same after a 5xx.",
)


class OrderListCreateView(generics.ListAPIView):
    permission_classes = [IsChannelClient]
    serializer_class = OrderSummaryOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no client
            return Order.objects.none()  # rule-ok: an empty queryset for the schema
        return orders_visible_to_client(client_of(self.request))

    @extend_schema(summary="List this channel's orders", tags=["orders"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Capture an order",
        tags=["orders"],
        request=OrderCreateInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OrderOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input (see errors[])"),
            409: OpenApiResponse(
                ERROR_SCHEMA, description="duplicate_order or idempotency_key_in_use"
            ),
            413: OpenApiResponse(ERROR_SCHEMA, description="payload_too_large"),
            422: OpenApiResponse(ERROR_SCHEMA, description="idempotency_key_reused"),
        },
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)

        def create() -> Response:
            # The common valid body without DRF (orders/api/order_input.py); anything else,
            # errors included, through the serializer.
            order_input = read_order_input(request.data)
            if order_input is None:
                serializer = OrderCreateInputSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                order_input = serializer.to_order_input()
            order = capture_order(
                channel=client.channel,
                data=order_input,
                actor=Actor.for_api_client(client),
                # With a key, run_idempotent's transaction is rolled back as a whole when
                # capture raises; without one there is no outer transaction to protect.
                savepoint=False,
            )
            # OrderOutputSerializer's answer without its per-field loop (orders/api/order_output.py)
            return Response(render_order(order), status=status.HTTP_201_CREATED)

        return run_idempotent_request(request, create)


class OrderDetailView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Get one order",
        tags=["orders"],
        responses={200: OrderOutputSerializer, 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, number: str) -> Response:
        order = get_order_for_client(client_of(request), number)
        return Response(OrderOutputSerializer(order).data)


class OrderEventsView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="The order's event timeline",
        tags=["orders"],
        responses={200: EventOutputSerializer(many=True), 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, number: str) -> Response:
        events = list(order_events_for_client(client_of(request), number))
        masker = Masker.for_streams({event.stream for event in events})
        return Response(EventOutputSerializer(events, many=True, context={"masker": masker}).data)


class HoldCreateInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=HoldKind.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class HoldReleaseInputSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OrderHoldsView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Place a hold",
        tags=["holds"],
        request=HoldCreateInputSerializer,
        responses={
            201: HoldOutputSerializer,
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        client = client_of(request)
        order = get_order_for_client(client, number)
        data = HoldCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = place_hold(
            order_id=order.pk,
            kind=data.validated_data["kind"],
            reason=data.validated_data["reason"],
            actor=Actor.for_api_client(client),
        )
        return Response(HoldOutputSerializer(hold).data, status=status.HTTP_201_CREATED)


class OrderHoldReleaseView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Release a hold",
        tags=["holds"],
        request=HoldReleaseInputSerializer,
        responses={
            200: HoldOutputSerializer,
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request, number: str, hold_id: int) -> Response:
        client = client_of(request)
        order = get_order_for_client(client, number)
        data = HoldReleaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = release_hold(
            order_id=order.pk,
            hold_id=hold_id,
            note=data.validated_data["note"],
            actor=Actor.for_api_client(client),
        )
        return Response(HoldOutputSerializer(hold).data)
