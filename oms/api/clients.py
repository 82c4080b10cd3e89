"""The API's principal as the kernel sees it: a port to the app that owns API clients.

The kernel imports no app (docs/adr/0005-layers.md). Authentication, permissions and
idempotency keys need the API client model, so they reach it the way Django reaches the user
model: by the dotted name in a setting (`OMS_API_CLIENT_MODEL`, "orders.ApiClient"), typed
against the protocol below. The model's default manager must offer `authenticating(prefix)`,
the queryset that finds a key's row with whatever the views read next (its channel).
"""

from datetime import datetime
from typing import Any, Protocol, cast

from django.apps import apps
from django.conf import settings
from django.db.models import Model

# The PostgreSQL notification channel on which a change to the API clients or their channels is
# announced (the triggers of orders migration 0010; oms/api/authentication.py listens).
API_CLIENTS_CHANGED = "oms_api_clients_changed"


class ApiClientLike(Protocol):
    pk: Any
    name: str
    channel_id: int | None
    node_id: int | None
    prefix: str
    key_hash: str
    revoked_at: datetime | None
    last_used_at: datetime | None


def api_client_model() -> type[Model]:
    return apps.get_model(settings.OMS_API_CLIENT_MODEL)


def is_api_client(principal: object) -> bool:
    return isinstance(principal, api_client_model())


def as_api_client(principal: object) -> ApiClientLike:
    """`principal` typed as an API client; PermissionError when it is not one."""
    if not is_api_client(principal):
        raise PermissionError("no API client on the request")
    return cast(ApiClientLike, principal)
