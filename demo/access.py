"""How to get into the demo: the `admin` superuser and the `demo storefront` API key of the web
channel. Both secrets are new on every run, because they are shown only once."""

import secrets

from django.contrib.auth import get_user_model

from orders.models import ApiClient
from orders.services.api_clients import IssuedKey, create_api_client, revoke_api_client

ADMIN_USERNAME = "admin"
DEMO_CLIENT_NAME = "demo storefront"
DEMO_CLIENT_CHANNEL = "web"


def reset_admin() -> str:
    """Make sure the `admin` superuser exists and give it a new password, which is returned."""
    user, _ = get_user_model().objects.update_or_create(
        username=ADMIN_USERNAME,
        defaults={"is_staff": True, "is_superuser": True, "is_active": True},
    )
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


def reissue_demo_key() -> IssuedKey:
    """Revoke the previous demo storefront key(s), then issue a new one (shown once)."""
    previous = ApiClient.objects.filter(
        channel__code=DEMO_CLIENT_CHANNEL, name=DEMO_CLIENT_NAME, revoked_at__isnull=True
    ).values_list("pk", flat=True)
    for client_id in list(previous):
        revoke_api_client(client_id=client_id)
    return create_api_client(channel_code=DEMO_CLIENT_CHANNEL, name=DEMO_CLIENT_NAME)
