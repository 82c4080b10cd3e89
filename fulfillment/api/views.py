"""Node feedback API for WMS, 3PL and store systems. Each call names its `message_id`, unique
per node client: sending the same message again (same fulfillment order, action and body)
answers with the fulfillment order and has no second effect; the same id for another fulfillment
order, another action or another body is 409 `message_id_reused`, naming the fulfillment order
and action it was first used for. A node's key sees only its own fulfillment orders; any other
is a 404."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.node_messages import ACTIONS, NodeAction
from fulfillment.api.serializers import FulfillmentOutput
from fulfillment.models import FulfillmentOrder
from fulfillment.selectors import fulfillments_visible_to_node, get_fulfillment_for_node
from fulfillment.services.feedback import FeedbackMessage
from integrations.services import MessageIdReused, record_failure
from oms.api.errors import ERROR_SCHEMA
from oms.api.permissions import IsNodeClient, client_of
from oms.api.serializers import validated_payload
from oms.core.actors import Actor
from oms.core.errors import DomainError

NOT_FOUND = {404: OpenApiResponse(ERROR_SCHEMA, description="fulfillment_not_found")}
ERRORS = {
    400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input"),
    **NOT_FOUND,
    409: OpenApiResponse(
        ERROR_SCHEMA,
        description="`fulfillment_transition_refused` (`extra.status`: the current status), or "
        "`message_id_reused`: this node client already used the message id for another "
        "fulfillment order, another action or another body (`extra`: `message_id`, and the "
        "`fulfillment` and `action` it was first used for). Nothing changed.",
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
        responses={200: FulfillmentOutput, **NOT_FOUND},
    )
    def get(self, request: Request, number: str) -> Response:
        fo = get_fulfillment_for_node(client_of(request).node_id, number)
        return Response(FulfillmentOutput(fo).data)


class _FeedbackView(APIView):
    """Authenticate the node, find its fulfillment order, validate, call its one service
    (node_messages.ACTIONS). A refusal is answered and kept in the inbound message log."""

    permission_classes = [IsNodeClient]
    node_action: NodeAction

    def post(self, request: Request, number: str) -> Response:
        client = client_of(request)
        fo = get_fulfillment_for_node(client.node_id, number)
        data = self.node_action.input(data=request.data)
        data.is_valid(raise_exception=True)
        message = FeedbackMessage(
            source=f"node-api:{client.prefix}",
            message_id=data.validated_data["message_id"],
            # What the serializer validated, never the raw body: no unknown keys, no NUL, every
            # value bounded (the raw body once put junk keys in the jsonb log).
            payload=validated_payload(data),
        )
        try:
            self.node_action.call(fo.pk, data.validated_data, Actor.for_api_client(client), message)
        except MessageIdReused:
            raise
        except DomainError as exc:
            record_failure(
                source=message.source,
                message_id=message.message_id,
                kind=self.node_action.kind,
                payload=message.payload,
                error=exc,
                subject=fo.number,
            )
            raise
        return Response(FulfillmentOutput(get_fulfillment_for_node(client.node_id, number)).data)


def _feedback_view(action: NodeAction) -> type[_FeedbackView]:
    view = type(
        f"{action.path.title().replace('-', '')}View", (_FeedbackView,), {"node_action": action}
    )
    return extend_schema(
        summary=action.summary,
        tags=["fulfillment"],
        request=action.input,
        responses={200: FulfillmentOutput, **ERRORS},
    )(view)


FEEDBACK_VIEWS = {action.path: _feedback_view(action) for action in ACTIONS}
