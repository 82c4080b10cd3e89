"""Oversells: a node holds fewer units than are reserved against it.

Detected by the feeds (a count or an adjustment that leaves on_hand below reserved); resolved by
whoever deals with the shortfall (reroute, cancellation, recount) through `resolve_oversell()`.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import InboundMessage
from inventory.events import INVENTORY_OVERSELL_RESOLVED, INVENTORY_OVERSOLD, stream_for_node
from inventory.exceptions import InventoryErrorCode
from inventory.locks import lock_node, lock_oversell
from inventory.models import FeedKind, Node, Oversell, OversellStatus, StockLevel
from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.core.transactions import require_atomic
from oms.events.services import record_event


@dataclass(frozen=True)
class OversellNotice:
    oversell_id: int
    sku: str
    on_hand: int
    reserved: int
    shortfall: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "oversell_id": self.oversell_id,
            "sku": self.sku,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "shortfall": self.shortfall,
        }


def record_oversells(
    *,
    node: Node,
    levels: Sequence[StockLevel],
    sku_of: dict[int, str],
    feed_message: InboundMessage,
    cause: FeedKind,
    actor: Actor,
    causation_id: uuid.UUID | None = None,
) -> list[OversellNotice]:
    """Open (or refresh) an oversell for each level whose on_hand is below reserved.

    `feed_message` is the feed's row in the inbound message log, `cause` its kind. `levels`
    carry their new on_hand and reserved (read under the caller's row locks). A new
    oversell, or an open one whose figures changed, records `inventory.oversold`; an open one
    with the same figures is reported again but records nothing. The caller holds the node lock.
    """
    require_atomic("record_oversells()")
    short = [level for level in levels if level.on_hand < level.reserved]
    if not short:
        return []
    now = timezone.now()
    open_by_product = {
        o.product_id: o
        for o in Oversell.objects.filter(
            node_id=node.pk,
            product_id__in=[level.product_id for level in short],
            status=OversellStatus.OPEN,
        )
    }
    notices = []
    for level in short:
        shortfall = level.reserved - level.on_hand
        oversell = open_by_product.get(level.product_id)
        if oversell is None:
            oversell = Oversell(
                node_id=node.pk,
                product_id=level.product_id,
                stock_level_id=level.pk,
                on_hand=level.on_hand,
                reserved=level.reserved,
                shortfall=shortfall,
                detected_at=now,
                feed_message=feed_message,
            )
            oversell.save(force_insert=True)
            changed = True
        else:
            changed = (oversell.on_hand, oversell.reserved) != (level.on_hand, level.reserved)
            if changed:
                oversell.on_hand, oversell.reserved = level.on_hand, level.reserved
                oversell.shortfall, oversell.feed_message = shortfall, feed_message
                oversell.save(
                    update_fields=["on_hand", "reserved", "shortfall", "feed_message", "updated_at"]
                )
        notice = OversellNotice(
            oversell_id=oversell.pk,
            sku=sku_of[level.product_id],
            on_hand=level.on_hand,
            reserved=level.reserved,
            shortfall=shortfall,
        )
        notices.append(notice)
        if changed:
            record_event(
                stream=stream_for_node(node.code),
                type=INVENTORY_OVERSOLD,
                actor=actor,
                causation_id=causation_id,
                payload={
                    **notice.as_dict(),
                    "cause": str(cause),
                    "source": feed_message.source,
                    "message_id": feed_message.message_id,
                },
                subject=node,  # the node's oversell exception case follows (ops/handlers.py)
            )
    return notices


def resolve_oversell(*, oversell_id: int, actor: Actor, note: str = "") -> Oversell:
    """Close an open oversell (the shortfall was rerouted, cancelled or recounted).

    Locks the node, then the oversell; records `inventory.oversell_resolved`. Resolving one that
    is already resolved is refused with `oversell_not_open`.
    """
    node_id = Oversell.objects.filter(pk=oversell_id).values_list("node_id", flat=True).first()
    if node_id is None:
        raise NotFound(f"No oversell {oversell_id}.", code=InventoryErrorCode.OVERSELL_NOT_FOUND)
    with transaction.atomic():
        node = lock_node(node_id)
        oversell = lock_oversell(oversell_id)
        if oversell is None:
            raise NotFound(
                f"No oversell {oversell_id}.", code=InventoryErrorCode.OVERSELL_NOT_FOUND
            )
        if oversell.status != OversellStatus.OPEN:
            raise TransitionRefused(
                InventoryErrorCode.OVERSELL_NOT_OPEN,
                f"Oversell {oversell_id} is already resolved.",
                oversell_id=oversell_id,
            )
        oversell.resolve(at=timezone.now(), by=actor.label, note=note)
        oversell.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "updated_at"]
        )
        record_event(
            stream=stream_for_node(node.code),
            type=INVENTORY_OVERSELL_RESOLVED,
            actor=actor,
            payload={
                "oversell_id": oversell.pk,
                "sku": oversell.product.sku,
                "shortfall": oversell.shortfall,
                "note": note,
            },
        )
    return oversell
