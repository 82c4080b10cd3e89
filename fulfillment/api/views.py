"""Node feedback API for WMS, 3PL and store systems. Each call names its `message_id`: sending
the same message again answers with the fulfillment order and has no second effect. A node's key
sees only its own fulfillment orders; any other is a 404."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.serializers import (
    DeliverInput,
    FulfillmentOutput,
    HandOverInput,
    MessageInput,
    PackInput,
    RejectInput,
    ShipInput,
)
from fulfillment.models import FulfillmentOrder
from fulfillment.selectors import fulfillments_visible_to_node, get_fulfillment_for_node
from fulfillment.services.feedback import (
    FeedbackMessage,
    accept_fulfillment,
    hand_over,
    mark_ready_for_pickup,
    pack_fulfillment,
    reject_fulfillment,
    start_picking,
)
from fulfillment.services.shipping import Package, deliver_fulfillment, ship_fulfillment
from oms.api.permissions import IsNodeClient, client_of
from oms.core.actors import Actor
from orders.api.views import ERROR_SCHEMA

ERRORS = {
    400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input"),
    404: OpenApiResponse(ERROR_SCHEMA, description="fulfillment_not_found"),
    409: OpenApiResponse(
        ERROR_SCHEMA, description="fulfillment_transition_refused or message_id_reused"
    ),
}


class FulfillmentListView(generics.ListAPIView):
    permission_classes = [IsNodeClient]
    serializer_class = FulfillmentOutput

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return FulfillmentOrder.objects.none()  # rule-ok: an empty queryset for the schema
        queryset = fulfillments_visible_to_node(client_of(self.request).node_id)
        status = self.request.query_params.get("status")
        return queryset.filter(status=status) if status else queryset

    @extend_schema(
        summary="This node's fulfillment orders (filter ?status=released)", tags=["fulfillment"]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class FulfillmentDetailView(APIView):
    permission_classes = [IsNodeClient]

    @extend_schema(
        summary="One fulfillment order",
        tags=["fulfillment"],
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        fo = get_fulfillment_for_node(client_of(request).node_id, number)
        return Response(FulfillmentOutput(fo).data)


class _FeedbackView(APIView):
    """Authenticate the node, find its fulfillment order, validate, call one service."""

    permission_classes = [IsNodeClient]
    input_class: type[serializers.Serializer] = MessageInput

    def handle(self, request: Request, number: str) -> Response:
        client = client_of(request)
        fo = get_fulfillment_for_node(client.node_id, number)
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        message = FeedbackMessage(
            source=f"node-api:{client.prefix}",
            message_id=data.validated_data["message_id"],
            payload=dict(request.data),
        )
        self.call(fo.pk, data.validated_data, Actor.for_api_client(client), message)
        return Response(FulfillmentOutput(get_fulfillment_for_node(client.node_id, number)).data)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        raise NotImplementedError  # each subclass calls its one service


def _quantities(data: dict[str, Any]) -> dict[int, int]:
    return {line["line_id"]: line["quantity"] for line in data.get("lines") or []}


class AcceptView(_FeedbackView):
    @extend_schema(
        summary="The node accepts the work",
        tags=["fulfillment"],
        request=MessageInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return accept_fulfillment(fulfillment_id=fulfillment_id, actor=actor, message=message)


class RejectView(_FeedbackView):
    input_class = RejectInput

    @extend_schema(
        summary="The node refuses it (stock released, order rerouted)",
        tags=["fulfillment"],
        request=RejectInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return reject_fulfillment(
            fulfillment_id=fulfillment_id, reason=data["reason"], actor=actor, message=message
        )


class PickView(_FeedbackView):
    @extend_schema(
        summary="Picking started",
        tags=["fulfillment"],
        request=MessageInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return start_picking(fulfillment_id=fulfillment_id, actor=actor, message=message)


class PackView(_FeedbackView):
    input_class = PackInput

    @extend_schema(
        summary="Picked and packed; short quantities are rerouted",
        tags=["fulfillment"],
        request=PackInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return pack_fulfillment(
            fulfillment_id=fulfillment_id,
            picked=_quantities(data),
            short_reason=data["short_reason"],
            actor=actor,
            message=message,
        )


class ShipView(_FeedbackView):
    input_class = ShipInput

    @extend_schema(
        summary="Parcels left the node (consumes stock; shorts are rerouted)",
        tags=["fulfillment"],
        request=ShipInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        packages = [
            Package(
                carrier=p["carrier"], service=p["service"], tracking_number=p["tracking_number"]
            )
            for p in data["packages"]
        ]
        return ship_fulfillment(
            fulfillment_id=fulfillment_id,
            packages=packages,
            actor=actor,
            shipped=_quantities(data) or None,
            short_reason=data["short_reason"],
            shipped_at=data.get("shipped_at"),
            message=message,
        )


class DeliverView(_FeedbackView):
    input_class = DeliverInput

    @extend_schema(
        summary="Delivered to the customer",
        tags=["fulfillment"],
        request=DeliverInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return deliver_fulfillment(
            fulfillment_id=fulfillment_id,
            actor=actor,
            delivered_at=data.get("delivered_at"),
            message=message,
        )


class ReadyView(_FeedbackView):
    @extend_schema(
        summary="Ready for pickup at the store (issues the pickup code; customer notified)",
        tags=["fulfillment"],
        request=MessageInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return mark_ready_for_pickup(fulfillment_id=fulfillment_id, actor=actor, message=message)


class HandOverView(_FeedbackView):
    input_class = HandOverInput

    @extend_schema(
        summary="Handed to the customer after the pickup code matched",
        tags=["fulfillment"],
        request=HandOverInput,
        responses={200: FulfillmentOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return self.handle(request, number)

    def call(
        self, fulfillment_id: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage
    ) -> object:
        return hand_over(
            fulfillment_id=fulfillment_id,
            pickup_code=data["pickup_code"],
            actor=actor,
            message=message,
        )
