"""Return API views: authenticate (a channel's key), scope, validate, call one service,
render. Every POST takes an Idempotency-Key (oms/api/idempotency.py)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.api.errors import ERROR_SCHEMA
from oms.api.idempotency import run_idempotent_request
from oms.api.permissions import IsChannelClient, IsNodeClient, client_of
from oms.core.actors import Actor
from orders.api.views import IDEMPOTENCY_PARAMETER
from orders.selectors import get_order_for_client
from returns.api.serializers import (
    InspectionInputSerializer,
    ReceiptInputSerializer,
    RefundOutputSerializer,
    ReturnCancelInputSerializer,
    ReturnCreateInputSerializer,
    ReturnOutputSerializer,
)
from returns.models import ExchangeKind, ReturnSource
from returns.selectors import (
    get_return_for_client,
    get_return_for_node,
    refund_of_return,
    returns_of_order,
)
from returns.services.receipt import ReceiptMessage, inspect_return, receive_return
from returns.services.refunds import refund_return
from returns.services.requests import (
    ReturnRequest,
    cancel_return,
    mark_return_in_transit,
    request_return,
)


class OrderReturnsView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="The order's returns",
        tags=["returns"],
        responses={200: ReturnOutputSerializer(many=True), 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, number: str) -> Response:
        order = get_order_for_client(client_of(request), number)
        return Response(ReturnOutputSerializer(returns_of_order(order.pk), many=True).data)

    @extend_schema(
        summary="Open a return (RMA)",
        description="Checked against the channel's return policy; authorized at once when it "
        "passes. Refusals: 400 `validation_failed` (unknown line, `quantity_exceeds_returnable`, "
        "`line_not_shipped`), 422 `return_window_closed` or `sku_not_returnable` with the "
        "dates and policy version in `detail`.",
        tags=["returns"],
        request=ReturnCreateInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: ReturnOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input (see errors[])"),
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA, description="idempotency_key_in_use"),
            422: OpenApiResponse(
                ERROR_SCHEMA,
                description="return_window_closed, sku_not_returnable, idempotency_key_reused",
            ),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        client = client_of(request)

        def create() -> Response:
            order = get_order_for_client(client, number)
            data = ReturnCreateInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            rma = request_return(
                order_id=order.pk,
                request=ReturnRequest(
                    lines=data.requested_lines(),
                    source=ReturnSource.API,
                    exchange_kind=data.validated_data["exchange"] or ExchangeKind.NONE,
                    customer_note=data.validated_data["note"],
                    return_node_code=data.validated_data["return_node"],
                    authorize=True,
                ),
                actor=Actor.for_api_client(client),
            )
            rma = get_return_for_client(client, rma.number)
            return Response(ReturnOutputSerializer(rma).data, status=status.HTTP_201_CREATED)

        return run_idempotent_request(request, create)


class ReturnDetailView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Get one return",
        tags=["returns"],
        responses={200: ReturnOutputSerializer, 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, rma: str) -> Response:
        return Response(ReturnOutputSerializer(get_return_for_client(client_of(request), rma)).data)


class ReturnCancelView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="Withdraw a return before it comes back",
        tags=["returns"],
        request=ReturnCancelInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: ReturnOutputSerializer,
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA, description="return_transition_refused"),
        },
    )
    def post(self, request: Request, rma: str) -> Response:
        client = client_of(request)

        def cancel() -> Response:
            found = get_return_for_client(client, rma)
            data = ReturnCancelInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            cancel_return(
                return_id=found.pk,
                reason=data.validated_data["reason"],
                actor=Actor.for_api_client(client),
            )
            return Response(ReturnOutputSerializer(get_return_for_client(client, rma)).data)

        return run_idempotent_request(request, cancel)


class ReturnInTransitView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="The customer's parcel is on its way back",
        description="For a platform that learns of the drop-off (a carrier scan, the customer "
        "saying so): authorized → in_transit, with `return.in_transit` (a webhook like every "
        "event). Idempotent: a return already in transit is answered as it is. Refused (409) "
        "`return_transition_refused` when the return is not authorized (requested, received, "
        "closed, ...). The return's tracking is in `label` and its `status`.",
        tags=["returns"],
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: ReturnOutputSerializer,
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA, description="return_transition_refused"),
        },
    )
    def post(self, request: Request, rma: str) -> Response:
        client = client_of(request)

        def in_transit() -> Response:
            found = get_return_for_client(client, rma)
            mark_return_in_transit(return_id=found.pk, actor=Actor.for_api_client(client))
            return Response(ReturnOutputSerializer(get_return_for_client(client, rma)).data)

        return run_idempotent_request(request, in_transit)


class ReturnRefundsView(APIView):
    permission_classes = [IsChannelClient]

    @extend_schema(
        summary="The return's refunds",
        tags=["returns"],
        responses={200: RefundOutputSerializer(many=True), 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, rma: str) -> Response:
        found = get_return_for_client(client_of(request), rma)
        return Response(RefundOutputSerializer(found.refunds.all(), many=True).data)

    @extend_schema(
        summary="Refund the return",
        description="Refunds what the return is worth now (what came back, its disposition, the "
        "policy's restocking fee and shipping rule, tax), never more than what is left of the "
        "capture. Once inspected, or before receipt when the policy allows. Calling again "
        "refunds nothing twice: a refund at work is answered as it is, a declined one is "
        "retried with its own key. Refusals (409): `return_not_refundable`, "
        "`nothing_to_refund`, `refund_exceeds_captured`.",
        tags=["returns"],
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: RefundOutputSerializer,
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request, rma: str) -> Response:
        client = client_of(request)

        def refund() -> Response:
            found = get_return_for_client(client, rma)
            done = refund_return(return_id=found.pk, actor=Actor.for_api_client(client))
            # Read again: a parallel caller may have finished this very refund meanwhile.
            fresh = refund_of_return(found, done.pk)
            return Response(RefundOutputSerializer(fresh).data, status=status.HTTP_201_CREATED)

        # The refund calls the payment provider: outside a transaction (refund_return commits
        # its claim first, so parallel callers see it), idempotent by itself.
        return run_idempotent_request(request, refund, atomic=False)


# --- the node API: a DC or a store system receives and inspects returns --------------------------


class ReturnReceiveView(APIView):
    permission_classes = [IsNodeClient]

    @extend_schema(
        summary="Receive a return at this node",
        description="What arrived, per line (default: every unit asked for). Idempotent per "
        "`message_id`. Refused (409) `return_transition_refused` when it is not on its way.",
        tags=["returns (node)"],
        request=ReceiptInputSerializer,
        responses={
            200: ReturnOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request, rma: str) -> Response:
        client = client_of(request)
        found = get_return_for_node(client, rma)
        data = ReceiptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receive_return(
            return_id=found.pk,
            node_id=client.node_id or 0,
            received=data.received(),
            actor=Actor.for_api_client(client),
            message=ReceiptMessage(
                source=f"node:{client.node_id}", message_id=data.validated_data["message_id"]
            ),
        )
        return Response(ReturnOutputSerializer(get_return_for_node(client, rma)).data)


class ReturnInspectView(APIView):
    permission_classes = [IsNodeClient]

    @extend_schema(
        summary="Inspect a return received at this node",
        description="A disposition for every unit received, per line: restock (back on sale "
        "here), damaged, vendor_return, destroy. The refund follows.",
        tags=["returns (node)"],
        request=InspectionInputSerializer,
        responses={
            200: ReturnOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request, rma: str) -> Response:
        client = client_of(request)
        found = get_return_for_node(client, rma)
        data = InspectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        inspect_return(
            return_id=found.pk,
            dispositions=data.dispositions(),
            note=data.validated_data["note"],
            actor=Actor.for_api_client(client),
        )
        return Response(ReturnOutputSerializer(get_return_for_node(client, rma)).data)
