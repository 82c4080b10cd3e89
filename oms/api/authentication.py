"""`Authorization: Bearer <key>` for API clients. The authenticated principal is the ApiClient
(request.auth); request.user stays None because API clients are not people."""

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from oms.api.clients import ApiClientLike, api_client_model
from oms.api.keys import matches, split_prefix
from oms.core.queries import CompiledLookup, update_row

# The key's row by its prefix, on every request: its SQL compiled once, the prefix bound by the
# server and the statement prepared after a few runs on a connection (oms/core/queries.py).
_client_by_prefix: CompiledLookup[Any] = CompiledLookup(
    lambda prefix: api_client_model()._default_manager.authenticating(prefix),  # type: ignore[attr-defined]  # the port's contract (oms/api/clients.py)
    bound=True,
)

# last_used_at is written at most this often per client, so hot clients do not turn every read
# into a write on their own row.
_TOUCH_EVERY_SECONDS = 60


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiClientLike] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword or not key.strip():
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: Bearer <api key>'.", code="invalid_authorization_header"
            )
        key = key.strip()
        prefix = split_prefix(key)
        model = api_client_model()
        client: ApiClientLike | None = _client_by_prefix(prefix) if prefix else None
        if client is None or not matches(key, client.key_hash):
            raise exceptions.AuthenticationFailed("Unknown API key.", code="invalid_api_key")
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This API key was revoked.", code="api_key_revoked"
            )
        now = timezone.now()
        if (
            client.last_used_at is None
            or (now - client.last_used_at).total_seconds() > _TOUCH_EVERY_SECONDS
        ):
            update_row(model, client.pk, {"last_used_at": now})
        return (None, client)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API client key."}
