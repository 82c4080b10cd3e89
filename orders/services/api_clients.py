"""API clients: create (the key is returned once, never stored) and revoke."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.selectors import get_node_by_code
from oms.api.keys import generate_key, split_prefix
from oms.core.errors import FieldError, InvalidInput, NotFound
from orders.models import ApiClient, Channel


@dataclass(frozen=True)
class IssuedKey:
    client: ApiClient
    key: str  # plaintext: show it once, then it is gone


def create_api_client(
    *, name: str, channel_code: str | None = None, node_code: str | None = None
) -> IssuedKey:
    """A key for one channel (order capture and reads) or one node (fulfillment feedback)."""
    if bool(channel_code) == bool(node_code):
        raise InvalidInput(
            [FieldError("scope_required", "Give exactly one of a channel or a node.", "channel")]
        )
    channel = node = None
    if channel_code:
        channel = Channel.objects.filter(code=channel_code).first()
        if channel is None:
            raise NotFound(f"No channel {channel_code!r}.", code="channel_not_found")
    else:
        node = get_node_by_code(node_code or "")
        if node is None:
            raise NotFound(f"No node {node_code!r}.", code="node_not_found")
    new_key = generate_key()
    with transaction.atomic():
        client = ApiClient(
            name=name,
            channel=channel,
            node=node,
            prefix=new_key.prefix,
            key_hash=new_key.key_hash,
        )
        client.save(force_insert=True)
    return IssuedKey(client=client, key=new_key.plaintext)


def revoke_api_client(*, client_id: int | None = None, prefix: str | None = None) -> ApiClient:
    """Revoke a key at once, found by id or key prefix (a whole pasted key works too).
    Idempotent: revoking twice keeps the first revocation time."""
    if prefix is not None:
        prefix = split_prefix(prefix.strip()) or prefix.strip()
    with transaction.atomic():
        found = ApiClient.objects.select_for_update(of=("self",))
        client = (
            found.filter(pk=client_id).first()
            if client_id is not None
            else found.filter(prefix=prefix).first()
        )
        if client is None:
            which = f"id {client_id}" if client_id is not None else f"prefix {prefix!r}"
            raise NotFound(f"No API client with {which}.", code="api_client_not_found")
        if client.revoked_at is None:
            client.revoked_at = timezone.now()
            client.save(update_fields=["revoked_at", "updated_at"])
    return client
