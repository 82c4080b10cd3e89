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
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException
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
from inventory.selectors import Availability, get_availability, node_accepts_feeds_from
from inventory.services.feeds import apply_adjustment, apply_snapshot
from oms.api.authentication import ApiKeyAuthentication
from oms.api.clients import ApiClientLike, is_api_client
from oms.api.errors import ERROR_SCHEMA
from oms.api.permissions import IsApiClient, IsNodeClient, client_of
from oms.api.renderers import FastJSONRenderer
from oms.api.throttling import ApiClientRateThrottle
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


# What a plain storefront call asks for: DRF's negotiation would pick FastJSONRenderer with
# `application/json` and no parameters (an `indent`, a `format` or anything else: DRF decides).
_PLAIN_ACCEPT = (None, "*/*", "application/json")
_PLAIN_QUERY_KEYS = frozenset(("sku", "postal_code", "country"))


class AvailabilityView(APIView):
    """A plain call (GET, a kept API key within its rate, a query plain_availability_query
    takes, JSON accepted as is) is answered by _plain_answer without DRF's Request, content
    negotiation and Response; DRF's dispatch answers everything else, with its own statuses,
    headers and error shapes. Both give the same bytes and headers (tests/inventory/
    test_inventory_api.py compares them): a storefront asks on every page, and DRF's own
    path was a fifth of the web process's CPU per availability request (docs/performance.md).
    """

    renderer_classes = [FastJSONRenderer]  # writes AvailabilityJSON's bytes (docs/adr/0010)

    # Set by _plain_answer once this request's rate limit was counted: DRF's dispatch, when it
    # takes over (an error after that), does not count the same call a second time.
    _throttled: list[float | None] | None = None
    _throttle_passed = False
    # What _plain_answer's call of the selector raised: get() raises it for DRF to answer.
    _raised: Exception | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        answer = self._plain_answer(request, args, kwargs)
        if answer is not None:
            return answer
        return super().dispatch(request, *args, **kwargs)

    def _plain_answer(
        self, request: HttpRequest, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        """The 200 answer of a plain call, as DRF's dispatch writes it (initial(): negotiation,
        authentication, permission, rate limit; the view; finalize_response(): the Allow
        header; the rendering), or None to leave the call to DRF. Nothing is counted or
        changed before the key is accepted, and DRF's dispatch is told what was (above)."""
        if (
            request.method != "GET"
            or kwargs
            or request.META.get("HTTP_ACCEPT") not in _PLAIN_ACCEPT
            or self.authentication_classes != [ApiKeyAuthentication]
            or self.permission_classes != [IsApiClient]
            or self.throttle_classes != [ApiClientRateThrottle]
            or self.versioning_class is not None
            or not _PLAIN_QUERY_KEYS.issuperset(request.GET)
        ):
            return None
        try:
            found = ApiKeyAuthentication().authenticate(request)  # type: ignore[arg-type]  # reads META only
        except APIException:
            return None  # DRF answers it (the same exception again)
        if found is None or not is_api_client(found[1]):
            return None
        plain = plain_availability_query(request.GET)
        if plain is None:
            return None
        # The rate limit, counted once: DRF's check_throttles() with the request's client.
        throttle = ApiClientRateThrottle()
        if not throttle.allow_request(_Authenticated(found[1]), self):  # type: ignore[arg-type]  # reads .auth only
            self._throttled = [throttle.wait()]
            return None
        self._throttle_passed = True
        try:
            availability = _availability(plain)
        except Exception as exc:  # noqa: BLE001 - DRF's dispatch answers it (get() raises it)
            self._raised = exc
            return None
        body = FastJSONRenderer().render(AvailabilityJSON(availability), "application/json", {})
        response = HttpResponse(body, content_type=FastJSONRenderer.media_type)
        for name, value in self.default_response_headers.items():
            response[name] = value
        return response

    def check_throttles(self, request: Request) -> None:
        if self._throttle_passed:
            return  # counted by _plain_answer, within the rate
        if self._throttled is not None:
            durations = [d for d in self._throttled if d is not None]
            self.throttled(request, max(durations, default=None))
        super().check_throttles(request)

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
        if self._raised is not None:
            raise self._raised
        plain = plain_availability_query(request.query_params)
        if plain is None:
            query = AvailabilityQueryInputSerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            plain = query.validated_data
        return Response(AvailabilityJSON(_availability(plain)))


class _Authenticated:
    """What the rate limit reads of a DRF Request: the API client (request.auth)."""

    def __init__(self, client: ApiClientLike) -> None:
        self.auth = client


def _availability(plain: dict[str, Any]) -> Availability:
    return get_availability(
        skus=plain["sku"],
        postal_code=plain["postal_code"],
        country=plain["country"],
        pickup_radius_miles=float(
            getattr(settings, "OMS_PICKUP_RADIUS_MILES", DEFAULT_PICKUP_RADIUS_MILES)
        ),
    )
