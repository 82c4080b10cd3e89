"""Subscriptions: create, change, delete, and which events a subscription wants."""

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import WebhookSubscription, new_webhook_secret
from oms.core.errors import DomainError, NotFound
from oms.events import registry
from orders.models import Channel
from webhooks.ssrf import check_url

_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")


class InvalidSubscription(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="invalid_subscription", detail=detail, http_status=400)


def clean_event_types(event_types: Any) -> list[str]:
    if not isinstance(event_types, list) or not event_types:
        raise InvalidSubscription('event_types must be a non-empty list, e.g. ["order.*"].')
    cleaned: list[str] = []
    for pattern in event_types:
        if not isinstance(pattern, str) or not _PATTERN.match(pattern.strip()):
            raise InvalidSubscription(
                f"Event type pattern {pattern!r} is invalid: use an exact type "
                "(order.created), a prefix wildcard (fulfillment.*) or *."
            )
        pattern = pattern.strip()
        if not _in_catalogue(pattern):
            raise InvalidSubscription(
                f"Event type {pattern!r} is not in the event catalogue (docs/events.md): "
                "check the spelling, e.g. order.created, or use a prefix such as order.*."
            )
        if pattern not in cleaned:
            cleaned.append(pattern)
    return cleaned


def _in_catalogue(pattern: str) -> bool:
    """`*`, a registered type, or a prefix wildcard that matches at least one registered type:
    a typo (`order.creatd`) would otherwise subscribe to nothing, silently."""
    if pattern == "*":
        return True
    names = [event_type.name for event_type in registry.all_types()]
    if pattern.endswith(".*"):
        return any(name.startswith(pattern[:-1]) for name in names)
    return pattern in names


def event_type_choices() -> list[tuple[str, str]]:
    """What a subscription may name: everything, each family (order.*), each type."""
    names = [event_type.name for event_type in registry.all_types()]
    families = sorted({name.split(".", 1)[0] for name in names})
    return [
        ("*", "* (every event)"),
        *((f"{family}.*", f"{family}.* (every {family} event)") for family in families),
        *((name, name) for name in names),
    ]


def type_matches(patterns: list[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


@dataclass(frozen=True)
class SubscriptionMatch:
    """The part of a subscription the relay needs, loaded once per batch."""

    id: int
    patterns: tuple[str, ...]
    channel_id: int | None

    def wants(self, event_type: str, channel_id: int | None) -> bool:
        if self.channel_id is not None and self.channel_id != channel_id:
            return False
        return type_matches(list(self.patterns), event_type)


def active_matchers() -> list[SubscriptionMatch]:
    rows = WebhookSubscription.objects.filter(is_active=True).values_list(
        "id", "event_types", "channel_id"
    )
    return [SubscriptionMatch(pk, tuple(types or ()), channel) for pk, types, channel in rows]


def _channel(code: str | None) -> Channel | None:
    if not code:
        return None
    try:
        return Channel.objects.get(code=code)
    except Channel.DoesNotExist:
        raise InvalidSubscription(f"No channel {code!r}.") from None


def create_subscription(
    *,
    name: str,
    url: str,
    event_types: list[str],
    channel_code: str | None = None,
    is_active: bool = True,
    created_by: Any = None,
) -> WebhookSubscription:
    """Create a subscription (active unless told otherwise) with a fresh secret (shown to the
    caller once)."""
    check_url(url)  # before the transaction: it may resolve a name
    types = clean_event_types(event_types)
    with transaction.atomic():
        return WebhookSubscription.objects.create(
            name=name.strip() or url,
            url=url.strip(),
            event_types=types,
            channel=_channel(channel_code),
            is_active=is_active,
            created_by=created_by if getattr(created_by, "pk", None) else None,
        )


_UNSET: Any = object()


def update_subscription(
    subscription_id: int,
    *,
    name: str = _UNSET,
    url: str = _UNSET,
    event_types: list[str] = _UNSET,
    channel_code: str | None = _UNSET,
    is_active: bool = _UNSET,
) -> WebhookSubscription:
    if url is not _UNSET:
        check_url(url)
    types = clean_event_types(event_types) if event_types is not _UNSET else _UNSET
    channel = _channel(channel_code) if channel_code is not _UNSET else _UNSET
    with transaction.atomic():
        sub = _locked(subscription_id)
        for field, value in (
            ("name", name),
            ("url", url.strip() if url is not _UNSET else _UNSET),
            ("event_types", types),
            ("channel", channel),
            ("is_active", is_active),
        ):
            if value is not _UNSET:
                setattr(sub, field, value)
        if is_active is True:
            sub.disabled_reason = ""
        sub.name = sub.name.strip() or sub.url
        sub.save()
        return sub


def disable_subscription(subscription_id: int, *, reason: str) -> None:
    with transaction.atomic():
        sub = _locked(subscription_id)
        if sub.is_active:
            sub.is_active = False
            sub.disabled_reason = reason[:500]
            sub.save(update_fields=["is_active", "disabled_reason", "updated_at"])


def rotate_secret(subscription_id: int) -> WebhookSubscription:
    """A new signing secret (returned once, on the instance). The one it replaces keeps signing
    next to it for settings.OMS_WEBHOOK_SECRET_OVERLAP, so the consumer can switch in that
    window: deliveries carry both signatures. A second rotation inside the window drops the
    oldest secret."""
    with transaction.atomic():
        sub = _locked(subscription_id)
        sub.previous_secret = sub.secret
        sub.previous_secret_expires_at = timezone.now() + settings.OMS_WEBHOOK_SECRET_OVERLAP
        sub.secret = new_webhook_secret()
        sub.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
        return sub


def delete_subscription(subscription_id: int) -> None:
    """Delete the subscription with its delivery log (its history rows stay)."""
    with transaction.atomic():
        _locked(subscription_id).delete()


def _locked(subscription_id: int) -> WebhookSubscription:
    try:
        return WebhookSubscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
    except WebhookSubscription.DoesNotExist:
        raise NotFound("No such webhook subscription.") from None
