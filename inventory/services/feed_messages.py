"""Applied feed messages in the inbound message log (integrations.InboundMessage, the one log of
every message a node, carrier or file sends; docs/inbound.md): results, deduplication by
(source, message_id), and the record of each message. Used by inventory/services/feeds.py.

An applied feed is a processed row of kind `inventory.snapshot` / `inventory.adjustment`,
subject the node code, payload the feed as sent (feeds_inbound.py, enough to apply it again),
result the FeedResult a resend is answered with. Its fingerprint is the feed's own: kind, node
and normalised content (`fingerprint()` below), so 'tee-1' and 'TEE-1' are one message. A
refused feed is kept in the same row, failed (feeds_inbound.py); applying it later takes the row
over in the transaction of the effect.
"""

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from integrations.models import InboundMessage, InboundStatus
from integrations.services import claim_message, finish_message
from inventory.exceptions import MessageIdReused
from inventory.models import FeedKind, FeedStatus, Node
from inventory.services.oversells import OversellNotice

# Kinds of feed messages in the inbound message log.
SNAPSHOT_KIND = "inventory.snapshot"
ADJUSTMENT_KIND = "inventory.adjustment"
INBOUND_KIND = {FeedKind.SNAPSHOT: SNAPSHOT_KIND, FeedKind.ADJUSTMENT: ADJUSTMENT_KIND}


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
    """The first result of this (source, message_id), marked duplicate; None if it was never
    applied (new, or kept after a refusal)."""
    message = (
        InboundMessage.objects.filter(
            source=received.source,
            message_id=received.message_id,
            status=InboundStatus.PROCESSED,
        )
        .order_by()
        .first()
    )
    if message is None:
        return None
    if message.fingerprint != received.fingerprint:
        raise MessageIdReused(source=received.source, message_id=received.message_id)
    first = FeedResult.from_dict(message.result)
    applied_at = message.processed_at or message.received_at
    return replace(
        first,
        status=FeedStatus.DUPLICATE,
        duplicate=True,
        detail=(
            f"Duplicate: message {received.message_id!r} was received at "
            f"{applied_at.isoformat()} ({first.status.label.lower()}). "
            "Nothing changed."
        ),
    )


def keep_message(
    received: Received, kind: FeedKind, payload: dict[str, Any], result: FeedResult | None
) -> InboundMessage:
    """Record the message being applied (with its final result, or with the result to come)."""
    message = claim_message(
        source=received.source,
        message_id=received.message_id,
        kind=INBOUND_KIND[kind],
        subject=received.node.code,
        payload=payload,
        fingerprint=received.fingerprint,
    )
    if message is None:
        # The same (source, message_id) was just applied to another node: a different message.
        raise MessageIdReused(source=received.source, message_id=received.message_id)
    if result is not None:
        store_result(message, result)
    return message


def store_result(message: InboundMessage, result: FeedResult) -> None:
    finish_message(message, result=result.as_dict())
