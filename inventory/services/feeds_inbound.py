"""Inventory feeds in the inbound message log (docs/inbound.md): their payloads, and refusals.

Every feed is kept in `integrations.InboundMessage` under its own (source, message id), with
kind `inventory.snapshot` or `inventory.adjustment`, the node as subject and the feed as sent as
payload (the shapes below). An applied feed is a processed row carrying the per-node result a
resend is answered with (feed_messages.py deduplicates on it). A REFUSED feed (unknown node or
SKU, a negative count, an adjustment that would go negative, ...) is kept as a failed row, so
the ops console shows it and a person can re-process it after the fix.

- The sender was answered with the refusal (the API's 4xx, the import command's errors), so it
  owns the retry: AfterFailure.ANSWERED, no automatic retry.
- A node may correct a refused feed and send it again under the same id: the kept row follows
  the content sent last, and when the feed is applied (sent again or re-processed) the feed
  service takes the row over and processes it in the transaction of the effect.
- `message_id_reused` is not kept: the id already names another, applied message.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from integrations.services import AfterFailure, record_failure
from inventory.exceptions import MessageIdReused
from inventory.services.feed_messages import ADJUSTMENT_KIND, SNAPSHOT_KIND, FeedResult
from oms.core.errors import DomainError

KINDS = (SNAPSHOT_KIND, ADJUSTMENT_KIND)


def snapshot_payload(*, node_code: str, as_of: datetime, counts: dict[str, int]) -> dict[str, Any]:
    """A snapshot as logged JSON, in the API's shape (without the message id)."""
    return {
        "node": node_code,
        "as_of": as_of.isoformat(),
        "counts": [{"sku": sku, "on_hand": on_hand} for sku, on_hand in counts.items()],
    }


def snapshot_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """apply_snapshot's content arguments back from the log:
    snapshot_payload(**snapshot_from_payload(p)) == p."""
    return {
        "node_code": payload["node"],
        "as_of": datetime.fromisoformat(payload["as_of"]),
        "counts": {row["sku"]: row["on_hand"] for row in payload["counts"]},
    }


def adjustment_payload(*, node_code: str, lines: Sequence[tuple[str, int, str]]) -> dict[str, Any]:
    return {
        "node": node_code,
        "lines": [{"sku": sku, "delta": delta, "reason": reason} for sku, delta, reason in lines],
    }


def adjustment_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """apply_adjustment's content arguments back from the log:
    adjustment_payload(**adjustment_from_payload(p)) == p."""
    return {
        "node_code": payload["node"],
        "lines": [(line["sku"], line["delta"], line["reason"]) for line in payload["lines"]],
    }


def kept_if_refused(
    *,
    kind: str,
    payload: dict[str, Any],
    source: str,
    message_id: str,
    apply: Callable[[], FeedResult],
) -> FeedResult:
    """Apply a feed as it arrives; a refusal is kept (failed, answered) and raised."""
    try:
        return apply()
    except MessageIdReused:
        raise
    except DomainError as exc:
        record_failure(
            source=source,
            message_id=message_id,
            kind=kind,
            payload=payload,
            error=exc,
            subject=str(payload["node"])[:100],
            then=AfterFailure.ANSWERED,
            latest_content=True,
        )
        raise
