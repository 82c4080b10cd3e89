"""Setting a channel up (the admin and `manage.py create_channel` call these)."""

import secrets
from typing import Any

from django.db import transaction

from channels.models import ChannelConnection, Platform
from oms.core.errors import FieldError, InvalidInput
from orders.models import Channel


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def create_channel(
    *,
    code: str,
    platform: str,
    webhook_secret: str = "",
    name: str = "",
    base_url: str = "",
    credentials: str = "",
    currency: str = "USD",
    settings: dict[str, Any] | None = None,
) -> ChannelConnection:
    """The channel (made when it does not exist yet) and its platform connection."""
    if platform not in Platform.values:
        raise InvalidInput(
            [
                FieldError(
                    "unknown_platform",
                    f"{platform!r} is not one of {', '.join(Platform.values)}.",
                    "platform",
                )
            ]
        )
    with transaction.atomic():
        channel, _ = Channel.objects.get_or_create(
            code=code,
            defaults={"name": name or code, "default_currency": currency.upper()},
        )
        if ChannelConnection.objects.filter(channel=channel).exists():
            raise InvalidInput(
                [
                    FieldError(
                        "channel_already_connected",
                        f"Channel {code} is already connected to a platform.",
                        "code",
                    )
                ]
            )
        return ChannelConnection.objects.create(
            channel=channel,
            platform=platform,
            base_url=base_url,
            credentials=credentials,
            webhook_secret=webhook_secret,
            settings=settings or {},
        )


def rotate_secrets(
    *, connection_id: int, credentials: str | None = None, webhook_secret: str | None = None
) -> ChannelConnection:
    """Replace the credentials and/or the webhook secret (shown once by the caller)."""
    with transaction.atomic():
        connection = ChannelConnection.objects.select_for_update(of=("self",)).get(pk=connection_id)
        fields = ["updated_at"]
        if credentials is not None:
            connection.credentials = credentials
            fields.append("credentials")
        if webhook_secret is not None:
            connection.webhook_secret = webhook_secret
            fields.append("webhook_secret")
        connection.save(update_fields=fields)
    return connection
