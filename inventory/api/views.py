"""Inventory API views: authenticate, validate, call one service or selector, render.

Node feeds are accepted only from the key of the node they are about (a channel's key, or
another node's, is answered 403 `feed_not_allowed` before anything is kept); see
docs/security.md, "Least privilege". Each message is deduplicated by (source, message_id), with
source `api:<node code>:<key prefix>` (per node AND client: another client cannot claim a node's
next message id first), so no Idempotency-Key is needed. A refused
feed is answered and kept as a failed inbound message, re-processable after a fix (the feed
service does it: inventory/services/feeds_inbound.py).
"""

import re
from typing import Any

from django.conf import settings
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.serializers import (
    AdjustmentInputSerializer,
    AvailabilityJSON,
    AvailabilityOutputSerializer,
    AvailabilityQueryInputSerializer,
    FeedResultOutputSerializer,
    SnapshotInputSerializer,
)
from inventory.exceptions import FeedNotAllowed, InventoryErrorCode
from inventory.selectors import get_availability, node_accepts_feeds_from
from inventory.services.feeds import apply_adjustment, apply_snapshot
from oms.api.clients import ApiClientLike
from oms.api.errors import ERROR_SCHEMA
from oms.api.permissions import IsNodeClient, client_of
from oms.api.renderers import FastJSONRenderer
from oms.core.actors import Actor

DEFAULT_PICKUP_RADIUS_MILES = 50.0


def api_feed_source(node_code: str, client: ApiClientLike) -> str:
    """Messages are numbered by the sending system: deduplicate per node and client."""
    return f"api:{node_code}:{client.prefix}"


class IsFeedClient(IsNodeClient):
    """Feeds take a node's key: a channel's key is refused (403 `feed_not_allowed`) before the
    body is read; which node the key may feed is checked once the body is (_authorize_feed)."""

    message = "Stock feeds need the key of the node they are about, not a channel's key."
    code = InventoryErrorCode.FEED_NOT_ALLOWED


def _authorize_feed(client: ApiClientLike, node_code: str) -> None:
    if not node_accepts_feeds_from(node_code=node_code, client_node_id=client.node_id):
        raise FeedNotAllowed(node_code=node_code)


class SnapshotView(APIView):
    permission_classes = [IsFeedClient]

    @extend_schema(
        summary="Apply a node's full stock count",
        description=(
            "A FULL count: products of the node that are not listed are set to 0. A snapshot "
            "not newer than the node's last one is ignored (`ignored_stale`); a resend of a "
            "message_id answers the first result (`duplicate`). A count below reserved opens an "
            "oversell."
        ),
        tags=["inventory"],
        request=SnapshotInputSerializer,
        responses={
            200: FeedResultOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="unknown_node, unknown_sku, ..."),
            403: OpenApiResponse(
                ERROR_SCHEMA, description="feed_not_allowed: not the key of this node"
            ),
            409: OpenApiResponse(ERROR_SCHEMA, description="message_id_reused"),
        },
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        data = SnapshotInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _authorize_feed(client, data.validated_data["node"])
        result = apply_snapshot(
            node_code=data.validated_data["node"],
            as_of=data.validated_data["as_of"],
            counts=data.to_counts(),
            source=api_feed_source(data.validated_data["node"], client),
            message_id=data.validated_data["message_id"],
            actor=Actor.for_api_client(client),
        )
        return Response(FeedResultOutputSerializer(result).data)


class AdjustmentView(APIView):
    permission_classes = [IsFeedClient]

    @extend_schema(
        summary="Adjust on-hand stock at a node",
        description=(
            "All or nothing: if any line would make on-hand negative, nothing is applied "
            "(409 `adjustment_refused`, one `on_hand_would_go_negative` per line). A resend of "
            "a message_id answers the first result (`duplicate`)."
        ),
        tags=["inventory"],
        request=AdjustmentInputSerializer,
        responses={
            200: FeedResultOutputSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="unknown_node, unknown_sku, ..."),
            403: OpenApiResponse(
                ERROR_SCHEMA, description="feed_not_allowed: not the key of this node"
            ),
            409: OpenApiResponse(
                ERROR_SCHEMA, description="adjustment_refused or message_id_reused"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        data = AdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _authorize_feed(client, data.validated_data["node"])
        result = apply_adjustment(
            node_code=data.validated_data["node"],
            message_id=data.validated_data["message_id"],
            source=api_feed_source(data.validated_data["node"], client),
            lines=data.to_lines(),
            actor=Actor.for_api_client(client),
        )
        return Response(FeedResultOutputSerializer(result).data)


# Values AvailabilityQueryInputSerializer takes as they are (nothing to trim, within its
# lengths, its country pattern): printable ASCII, no space at either end.
_PLAIN_SKU = re.compile(r"[!-~]{1,64}")
_PLAIN_POSTAL_CODE = re.compile(r"(?:[!-~](?:[ -~]{0,18}[!-~])?)?")
_PLAIN_COUNTRY = re.compile(r"[A-Za-z]{2}")


def plain_availability_query(params: QueryDict) -> dict[str, Any] | None:
    """AvailabilityQueryInputSerializer's validated_data for a query whose values it would take
    unchanged, without running it (a storefront asks on every page: DRF's field-by-field
    validation was a tenth of the request); None for anything else, which the serializer then
    validates (and refuses with its own errors). It reads the query as the serializer does:
    every `sku` (ListField), the last `postal_code` and `country`, their defaults when absent.
    tests/inventory/test_inventory_api.py compares the two over edge cases."""
    skus = params.getlist("sku")
    postal_code = params.get("postal_code", "")
    country = params.get("country", "US")
    if (
        skus
        and all(map(_PLAIN_SKU.fullmatch, skus))
        and _PLAIN_POSTAL_CODE.fullmatch(postal_code)
        and _PLAIN_COUNTRY.fullmatch(country)
    ):
        return {"sku": skus, "postal_code": postal_code, "country": country}
    return None


class AvailabilityView(APIView):
    renderer_classes = [FastJSONRenderer]  # writes AvailabilityJSON's bytes (docs/adr/0010)

    @extend_schema(
        summary="Available to promise per SKU, near an address",
        tags=["inventory"],
        parameters=[
            OpenApiParameter("sku", str, many=True, required=True, description="Up to 50."),
            OpenApiParameter("postal_code", str, required=False),
            OpenApiParameter("country", str, required=False, description="Default US."),
        ],
        responses={
            200: AvailabilityOutputSerializer,
            400: OpenApiResponse(
                ERROR_SCHEMA, description="unknown_sku, too_many_skus, unknown_postal_code"
            ),
        },
    )
    def get(self, request: Request) -> Response:
        client_of(request)
        plain = plain_availability_query(request.query_params)
        if plain is None:
            query = AvailabilityQueryInputSerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            plain = query.validated_data
        availability = get_availability(
            skus=plain["sku"],
            postal_code=plain["postal_code"],
            country=plain["country"],
            pickup_radius_miles=float(
                getattr(settings, "OMS_PICKUP_RADIUS_MILES", DEFAULT_PICKUP_RADIUS_MILES)
            ),
        )
        return Response(AvailabilityJSON(availability))
