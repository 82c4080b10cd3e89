"""The inbound feed message log: results, deduplication by (source, message_id), and the
record of each message. Used by inventory/services/feeds.py."""

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.exceptions import MessageIdReused
from inventory.models import FeedKind, FeedStatus, InventoryFeedMessage, Node
from inventory.services.oversells import OversellNotice


@dataclass(frozen=True)
class StockChange:
    sku: str
    on_hand_before: int
    on_hand: int
    reserved: int
    available: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "on_hand_before": self.on_hand_before,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
        }


@dataclass(frozen=True)
class FeedResult:
    status: FeedStatus
    kind: FeedKind
    node: str
    source: str
    message_id: str
    detail: str
    changed: tuple[StockChange, ...] = ()
    oversells: tuple[OversellNotice, ...] = ()
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "kind": str(self.kind),
            "node": self.node,
            "source": self.source,
            "message_id": self.message_id,
            "detail": self.detail,
            "duplicate": self.duplicate,
            "changed": [c.as_dict() for c in self.changed],
            "oversells": [o.as_dict() for o in self.oversells],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeedResult":
        return cls(
            status=FeedStatus(data["status"]),
            kind=FeedKind(data["kind"]),
            node=data["node"],
            source=data["source"],
            message_id=data["message_id"],
            detail=data["detail"],
            changed=tuple(StockChange(**c) for c in data["changed"]),
            oversells=tuple(OversellNotice(**o) for o in data["oversells"]),
            duplicate=data["duplicate"],
        )


@dataclass(frozen=True)
class Received:
    node: Node
    source: str
    message_id: str
    fingerprint: str


def fingerprint(kind: FeedKind, node_code: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"kind": str(kind), "node": node_code, **content}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def previous_result(received: Received) -> FeedResult | None:
    """The first result of this (source, message_id), marked duplicate; None if it is new."""
    message = InventoryFeedMessage.objects.filter(
        source=received.source, message_id=received.message_id
    ).first()
    if message is None:
        return None
    if message.fingerprint != received.fingerprint:
        raise MessageIdReused(source=received.source, message_id=received.message_id)
    first = FeedResult.from_dict(message.result)
    return replace(
        first,
        status=FeedStatus.DUPLICATE,
        duplicate=True,
        detail=(
            f"Duplicate: message {received.message_id!r} was received at "
            f"{message.received_at.isoformat()} ({message.get_status_display().lower()}). "
            "Nothing changed."
        ),
    )


def keep_message(
    received: Received, kind: FeedKind, as_of: datetime | None, result: FeedResult | None
) -> InventoryFeedMessage:
    """Record the message (with its final result, or with the result to come)."""
    message = InventoryFeedMessage(
        source=received.source,
        message_id=received.message_id,
        kind=kind,
        node=received.node,
        as_of=as_of,
        received_at=timezone.now(),
        status=result.status if result is not None else FeedStatus.APPLIED,
        fingerprint=received.fingerprint,
        result=result.as_dict() if result is not None else {},
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        # The same (source, message_id) was just applied to another node: a different message.
        raise MessageIdReused(source=received.source, message_id=received.message_id) from None
    return message


def store_result(message: InventoryFeedMessage, result: FeedResult) -> None:
    message.result = result.as_dict()
    message.save(update_fields=["result"])
