from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through DRF settings
    from rest_framework.views import APIView

from orders.models import ApiClient


class IsApiClient(BasePermission):
    message = "Authenticate with an API key: 'Authorization: Bearer <key>'."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return isinstance(request.auth, ApiClient)


def client_of(request: Request) -> ApiClient:
    client = request.auth
    if not isinstance(client, ApiClient):  # IsApiClient guarantees this; keep mypy honest
        raise PermissionError("no API client on the request")
    return client
