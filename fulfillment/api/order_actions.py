"""A channel's actions on its own orders that fulfillment decides: cancel (the order, a line,
some units) and change (address, service level, internal notes). Same shape as the order API:
channel-scoped (another channel's order is a 404), Idempotency-Key, errors with a code.

200: everything took effect at once. 202: some of it went to a node as a request (units at a
node, an address after release); the node's answer shows in the order's events
(`order.line_cancelled` / `order.cancelled`, or `order.cancel_refused`).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.services.order_cancellation import (
    CancelOutcome,
    cancel_line_units,
    cancel_order,
)
from fulfillment.services.order_changes import change_order
from oms.api.errors import ERROR_SCHEMA
from oms.api.idempotency import run_idempotent_request
from oms.api.permissions import IsChannelClient, client_of
from oms.api.serializers import StrictInputSerializer
from oms.core.actors import Actor
from orders.api.views import IDEMPOTENCY_PARAMETER
from orders.models import ServiceLevel
from orders.selectors import get_order_for_client
from orders.services.changes import ChangeRequest

ERRORS = {
    400: OpenApiResponse(ERROR_SCHEMA, description="validation_failed (reason_required, ...)"),
    404: OpenApiResponse(ERROR_SCHEMA, description="order_not_found, line_not_found"),
    409: OpenApiResponse(
        ERROR_SCHEMA,
        description="not_cancellable / not_changeable (closed, shipped), idempotency_key_in_use",
    ),
    422: OpenApiResponse(ERROR_SCHEMA, description="idempotency_key_reused"),
}


class CancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=200)


class LineCancelInput(CancelInput):
    quantity = serializers.IntegerField(
        min_value=1, required=False, help_text="Units to cancel; default: all not shipped."
    )


class CancelledUnits(serializers.Serializer):
    line_number = serializers.IntegerField()
    quantity = serializers.IntegerField()


class RequestedOfNode(serializers.Serializer):
    request = serializers.IntegerField()
    fulfillment = serializers.CharField()
    node = serializers.CharField()
    units = serializers.IntegerField(required=False)


class CancelOutput(serializers.Serializer):
    order = serializers.CharField()
    status = serializers.CharField(help_text="The order's status after the call.")
    cancelled = CancelledUnits(many=True, help_text="Units cancelled at once.")
    requested = RequestedOfNode(
        many=True, help_text="Cancel requests sent to nodes; their answers come as events."
    )


class ShippingAddressChangeInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(max_length=2)


class ChangeInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=200)
    shipping_address = ShippingAddressChangeInput(required=False)
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, required=False)
    internal_notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ChangeOutput(serializers.Serializer):
    order = serializers.CharField()
    changes = serializers.DictField(help_text="Each field changed now: from, to.")
    requested = RequestedOfNode(many=True, help_text="Address change requests sent to nodes.")
    rerouted = serializers.BooleanField(help_text="Routing runs again for the new address.")


def _cancel_response(outcome: CancelOutcome) -> Response:
    body = CancelOutput(
        {
            "order": outcome.order,
            "status": outcome.status,
            "cancelled": outcome.cancelled,
            "requested": outcome.requested,
        }
    ).data
    return Response(body, status=status.HTTP_202_ACCEPTED if outcome.requested else 200)


class OrderCancelView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Cancel the order (everything not shipped)",
        tags=["cancellations"],
        request=CancelInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CancelOutput, 202: CancelOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        client = client_of(request)
        order = get_order_for_client(client, number)

        def cancel() -> Response:
            data = CancelInput(data=request.data)
            data.is_valid(raise_exception=True)
            return _cancel_response(
                cancel_order(
                    order_id=order.pk,
                    actor=Actor.for_api_client(client),
                    reason=data.validated_data["reason"],
                )
            )

        return run_idempotent_request(request, cancel)


class OrderLineCancelView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Cancel a line, or some of its units",
        tags=["cancellations"],
        request=LineCancelInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CancelOutput, 202: CancelOutput, **ERRORS},
    )
    def post(self, request: Request, number: str, line_number: int) -> Response:
        client = client_of(request)
        order = get_order_for_client(client, number)

        def cancel() -> Response:
            data = LineCancelInput(data=request.data)
            data.is_valid(raise_exception=True)
            return _cancel_response(
                cancel_line_units(
                    order_id=order.pk,
                    line_number=line_number,
                    quantity=data.validated_data.get("quantity"),
                    actor=Actor.for_api_client(client),
                    reason=data.validated_data["reason"],
                )
            )

        return run_idempotent_request(request, cancel)


class OrderChangeView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Change the shipping address, service level or internal notes",
        tags=["order changes"],
        request=ChangeInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: ChangeOutput, 202: ChangeOutput, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        client = client_of(request)
        order = get_order_for_client(client, number)

        def change() -> Response:
            data = ChangeInput(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            outcome = change_order(
                order_id=order.pk,
                change=ChangeRequest(
                    address=values.get("shipping_address"),
                    service_level=values.get("service_level"),
                    internal_notes=values.get("internal_notes"),
                ),
                actor=Actor.for_api_client(client),
                reason=values["reason"],
            )
            body = ChangeOutput(
                {
                    "order": outcome.order,
                    "changes": outcome.changes,
                    "requested": outcome.requested,
                    "rerouted": outcome.rerouted,
                }
            ).data
            return Response(body, status=202 if outcome.requested else 200)

        return run_idempotent_request(request, change)
