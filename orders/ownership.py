"""Who owns a new order: oms, the legacy system, or the legacy system with oms planning in its
shadow. A port: capture (this layer) asks, the migration app (a higher layer) answers.

Capture must not import `migration` (imports run only downward, docs/adr/0005-layers.md), so
the migration app registers its resolver here when it loads (`MigrationConfig.ready()`).
Without a resolver, or for a channel without an active cutover plan, oms owns every order.
The query carries the plan as copied on the channel row (`Channel.cutover_*`), so the resolver
needs no query: capture's statement count does not grow (tests/api/test_capture_statements.py).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models


class OrderOwner(models.TextChoices):
    OMS = "oms", "oms"
    LEGACY = "legacy", "Legacy system"
    SHADOW = "shadow", "Legacy system (oms plans in its shadow)"


@dataclass(frozen=True)
class OwnershipQuery:
    """What the resolver may look at: the channel and the order's routing attributes."""

    channel_id: int
    channel_code: str
    external_id: str  # the channel's order id: a retried order hashes to the same side
    delivery_method: str
    region: str
    postal_code: str
    pickup_node_code: str
    legacy_mirror: bool  # mirrored in from the legacy system (never handed back to it)
    # The channel's approved plan as copied on the channel row (Channel.cutover_*): "" = none.
    cutover_mode: str = ""
    cutover_share: Decimal = Decimal("0")
    cutover_narrowing: Mapping[str, list[str]] = field(default_factory=dict)


Resolver = Callable[[OwnershipQuery], str]

_resolver: Resolver | None = None


def register_owner_resolver(resolver: Resolver | None) -> None:
    """Install the one resolver (the migration app's); None removes it."""
    global _resolver
    _resolver = resolver


def resolve_owner(query: OwnershipQuery) -> str:
    if _resolver is None:
        return OrderOwner.OMS
    return OrderOwner(_resolver(query)).value
