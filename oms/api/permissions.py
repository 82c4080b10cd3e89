from typing import TYPE_CHECKING, cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through DRF settings
    from rest_framework.views import APIView

from oms.api.clients import ApiClientLike, as_api_client, is_api_client


def _client(request: Request) -> ApiClientLike:
    """request.auth once IsApiClient.has_permission() has accepted it (no second check)."""
    return cast(ApiClientLike, request.auth)


class IsApiClient(BasePermission):
    message = "Authenticate with an API key: 'Authorization: Bearer <key>'."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return is_api_client(request.auth)


class IsChannelClient(IsApiClient):
    """Order capture and reads: keys that speak for a sales channel."""

    message = "This API key belongs to a node; order endpoints need a channel's key."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return super().has_permission(request, view) and _client(request).channel_id is not None


class IsNodeClient(IsApiClient):
    """Fulfillment feedback: keys that speak for a node (WMS, 3PL, store system)."""

    message = "This API key belongs to a channel; fulfillment feedback needs a node's key."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return super().has_permission(request, view) and _client(request).node_id is not None


def client_of(request: Request) -> ApiClientLike:
    """The request's API client (IsApiClient guarantees one; PermissionError otherwise)."""
    return as_api_client(request.auth)
