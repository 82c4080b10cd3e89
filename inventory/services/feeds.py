"""Inventory feeds from nodes: full counts (snapshots) and deltas (adjustments).

- Each message is applied at most once per (source, message_id), recorded in the inbound message
  log (integrations.InboundMessage, processed, with its result: feed_messages.py). A resend with
  the same content returns the first result with `duplicate=True` and changes nothing; the same
  id with other content is refused (`message_id_reused`). A refused message is not applied, so
  it may be resent (corrected, under the same id); it is kept as a failed inbound message for
  the ops console and can be re-processed there after a fix (feeds_inbound.py,
  docs/inbound.md).
- A snapshot is a FULL count of the node: every product of the node that is not listed counts
  0. A snapshot whose `as_of` is not newer than the node's last applied one is ignored (kept as
  `ignored_stale`, nothing changed) and the result says so.
- An adjustment is all or nothing: if any line would make on_hand negative, the whole message
  is refused with `adjustment_refused` and a per-line `on_hand_would_go_negative`.
- A count or adjustment that leaves on_hand below reserved opens an Oversell
  (inventory/services/oversells.py) and records `inventory.oversold`.

Locks: the node (stream root of `node:<code>`), then its stock rows by product. Every on_hand
change writes a ledger movement (reference_type "feed", reference_id = the inbound message pk).
When available stock rose for some products, backorder allocation is scheduled on commit.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import InboundMessage
from inventory.events import (
    INVENTORY_ADJUSTED,
    INVENTORY_SNAPSHOT_APPLIED,
    NodeStockChange,
    stream_for_node,
)
from inventory.exceptions import AdjustmentRefused, InventoryErrorCode
from inventory.locks import lock_node, lock_stock_levels_of_node
from inventory.models import (
    FeedKind,
    FeedStatus,
    MovementReason,
    Node,
    Product,
    StockLevel,
    normalize_sku,
)
from inventory.selectors import get_node_by_code, products_by_sku
from inventory.services.feed_messages import (
    FeedResult,
    Received,
    StockChange,
    fingerprint,
    keep_message,
    previous_result,
    store_result,
)
from inventory.services.feeds_inbound import (
    ADJUSTMENT_KIND,
    SNAPSHOT_KIND,
    adjustment_from_payload,
    adjustment_payload,
    kept_if_refused,
    snapshot_from_payload,
    snapshot_payload,
)
from inventory.services.movements import (
    create_missing_levels,
    more_available,
    movement,
    write_movements,
)
from inventory.services.oversells import record_oversells
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from oms.events.services import record_event

FEED_REFERENCE = "feed"


def build_snapshot_counts(rows: Sequence[tuple[str, int]]) -> dict[str, int]:
    """`[(sku, on_hand), ...]` from an API body or a file → the `counts` of `apply_snapshot`.

    Refuses a SKU listed twice (after normalisation: ' ab-1' and 'AB-1' are one SKU) with
    `duplicate_sku` at `counts[i].sku`, so the dict keeps the rows' order and indexes.
    """
    counts: dict[str, int] = {}
    errors = []
    for index, (sku, on_hand) in enumerate(rows):
        key = normalize_sku(sku)
        if key in counts:
            errors.append(
                FieldError(
                    InventoryErrorCode.DUPLICATE_SKU,
                    f"SKU {key!r} is listed more than once.",
                    f"counts[{index}].sku",
                )
            )
        else:
            counts[key] = on_hand
    if errors:
        raise InvalidInput(errors)
    return counts


def apply_snapshot(
    *,
    node_code: str,
    as_of: datetime,
    counts: dict[str, int],
    source: str,
    message_id: str,
    actor: Actor,
) -> FeedResult:
    """Apply a node's full count as of `as_of` (unlisted products of the node count 0); a
    refusal is raised and kept as a failed `inventory.snapshot` inbound message."""
    payload = snapshot_payload(node_code=node_code, as_of=as_of, counts=counts)
    return kept_if_refused(
        kind=SNAPSHOT_KIND,
        payload=payload,
        source=source,
        message_id=message_id,
        apply=partial(
            _apply_snapshot,
            node_code=node_code,
            as_of=as_of,
            counts=counts,
            payload=payload,
            source=source,
            message_id=message_id,
            actor=actor,
        ),
    )


def apply_adjustment(
    *,
    node_code: str,
    message_id: str,
    source: str,
    lines: Sequence[tuple[str, int, str]],
    actor: Actor,
) -> FeedResult:
    """Apply `(sku, delta, reason)` lines to on_hand at one node, once per (source, message_id);
    a refusal is raised and kept as a failed `inventory.adjustment` inbound message."""
    payload = adjustment_payload(node_code=node_code, lines=lines)
    return kept_if_refused(
        kind=ADJUSTMENT_KIND,
        payload=payload,
        source=source,
        message_id=message_id,
        apply=partial(
            _apply_adjustment,
            node_code=node_code,
            message_id=message_id,
            source=source,
            lines=lines,
            payload=payload,
            actor=actor,
        ),
    )


def reprocess_feed_message(message: InboundMessage, actor: Actor) -> dict[str, Any]:
    """Apply a kept, refused feed again from its payload, through the same service under the
    same (source, message id), which processes this row with the effect: integrations/inbound.py,
    registered in inventory/apps.py."""
    if message.kind == SNAPSHOT_KIND:
        apply = partial(_apply_snapshot, **snapshot_from_payload(message.payload))
    else:
        apply = partial(_apply_adjustment, **adjustment_from_payload(message.payload))
    result = apply(
        payload=message.payload, source=message.source, message_id=message.message_id, actor=actor
    )
    return result.as_dict()


def _apply_snapshot(
    *,
    node_code: str,
    as_of: datetime,
    counts: dict[str, int],
    payload: dict[str, Any],
    source: str,
    message_id: str,
    actor: Actor,
) -> FeedResult:
    """Apply a node's full count as of `as_of` (unlisted products of the node count 0); the
    message is recorded with `payload` (the feed as sent).

    Sets on_hand (one `snapshot` movement per changed row) and last_reported_at = as_of on every
    stock row of the node, creating rows for listed products the node did not have; records
    `inventory.snapshot_applied` and, per new shortfall, `inventory.oversold`. Errors, all at
    once and before anything is written: `unknown_node`, `unknown_sku`, `negative_count`,
    `duplicate_sku`, `empty_snapshot` (to zero a node, list its SKUs with 0), `naive_datetime`.
    """
    counts = {normalize_sku(sku): on_hand for sku, on_hand in counts.items()}
    node, products, errors = _resolve(node_code, list(counts), field="counts")
    if not counts:
        errors.append(
            FieldError(
                InventoryErrorCode.EMPTY_SNAPSHOT,
                "A snapshot must list at least one SKU; to zero a node, list its SKUs with 0.",
                "counts",
            )
        )
    if timezone.is_naive(as_of):
        errors.append(
            FieldError(InventoryErrorCode.NAIVE_DATETIME, "as_of needs a time zone.", "as_of")
        )
    errors += [
        FieldError(
            InventoryErrorCode.NEGATIVE_COUNT,
            f"A count cannot be negative ({on_hand}).",
            f"counts[{i}].on_hand",
        )
        for i, on_hand in enumerate(counts.values())
        if on_hand < 0
    ]
    if errors or node is None:
        raise InvalidInput(sorted(errors, key=_error_order))
    content_print = fingerprint(
        FeedKind.SNAPSHOT, node.code, {"as_of": as_of.isoformat(), "counts": counts}
    )
    received = Received(node=node, source=source, message_id=message_id, fingerprint=content_print)
    with transaction.atomic():
        node = lock_node(node.pk)
        previous = previous_result(received)
        if previous is not None:
            return previous
        if node.last_snapshot_at is not None and as_of <= node.last_snapshot_at:
            stale = FeedResult(
                status=FeedStatus.IGNORED_STALE,
                kind=FeedKind.SNAPSHOT,
                node=node.code,
                source=source,
                message_id=message_id,
                detail=(
                    f"Ignored: this snapshot is as of {as_of.isoformat()}, not newer than the "
                    f"last one applied ({node.last_snapshot_at.isoformat()}). Nothing changed."
                ),
            )
            keep_message(received, FeedKind.SNAPSHOT, payload, stale)
            return stale
        message = keep_message(received, FeedKind.SNAPSHOT, payload, None)
        create_missing_levels(node.pk, [p.pk for p in products.values()])
        levels = lock_stock_levels_of_node(node.pk)
        target = {products[sku].pk: on_hand for sku, on_hand in counts.items()}
        before = {level.pk: level.on_hand for level in levels}
        changed_levels = [
            level for level in levels if level.on_hand != target.get(level.product_id, 0)
        ]
        now = timezone.now()
        for level in changed_levels:
            level.on_hand = target.get(level.product_id, 0)
            level.updated_at = now
        StockLevel.objects.bulk_update(changed_levels, ["on_hand", "updated_at"], batch_size=500)
        StockLevel.objects.filter(node_id=node.pk).update(last_reported_at=as_of)
        Node.objects.filter(pk=node.pk).update(last_snapshot_at=as_of)
        sku_of = _skus_of(levels, products)
        write_movements(
            [
                movement(
                    node_id=node.pk,
                    product_id=level.product_id,
                    delta_on_hand=level.on_hand - before[level.pk],
                    reason=MovementReason.SNAPSHOT,
                    reference_type=FEED_REFERENCE,
                    reference_id=str(message.pk),
                    source_system=source,
                    actor=actor,
                    occurred_at=as_of,
                )
                for level in changed_levels
            ]
        )
        changes = tuple(_change(level, before[level.pk], sku_of) for level in changed_levels)
        restocked = NodeStockChange(node, tuple(more_available(changed_levels, before)))
        event = record_event(
            stream=stream_for_node(node.code),
            type=INVENTORY_SNAPSHOT_APPLIED,
            actor=actor,
            payload={
                "feed_message_id": message.pk,
                "source": source,
                "message_id": message_id,
                "as_of": as_of.isoformat(),
                "skus_counted": len(counts),
                "stock_levels": len(levels),
                "changed": _changed_payload(changes),
            },
            subject=restocked,  # backorders may try the new stock (fulfillment/handlers.py)
        )
        result = _applied(
            FeedKind.SNAPSHOT,
            node=node,
            message=message,
            event=event,
            counted=levels,
            changes=changes,
            sku_of=sku_of,
            actor=actor,
        )
    return result


def _apply_adjustment(
    *,
    node_code: str,
    message_id: str,
    source: str,
    lines: Sequence[tuple[str, int, str]],
    payload: dict[str, Any],
    actor: Actor,
) -> FeedResult:
    """Apply `(sku, delta, reason)` lines to on_hand at one node, once per (source, message_id);
    the message is recorded with `payload` (the feed as sent).

    All or nothing: `adjustment_refused` (409) with `on_hand_would_go_negative` per offending
    line when any product would go below zero (lines of one SKU count in order); `unknown_node`,
    `unknown_sku`, `zero_delta`, `empty_adjustment` (400) before anything is looked at. One
    `adjustment` movement per line (the line's reason is its note), `inventory.adjusted`, and
    `inventory.oversold` when on_hand falls below reserved. last_reported_at is not touched: a
    delta is not a count.
    """
    lines = [(normalize_sku(sku), delta, reason) for sku, delta, reason in lines]
    node, products, errors = _resolve(node_code, [sku for sku, _, _ in lines], field="lines")
    if not lines:
        errors.append(
            FieldError(
                InventoryErrorCode.EMPTY_ADJUSTMENT,
                "An adjustment needs at least one line.",
                "lines",
            )
        )
    errors += [
        FieldError(
            InventoryErrorCode.ZERO_DELTA, "A delta of 0 changes nothing.", f"lines[{i}].delta"
        )
        for i, (_, delta, _) in enumerate(lines)
        if delta == 0
    ]
    if errors or node is None:
        raise InvalidInput(sorted(errors, key=_error_order))
    content_print = fingerprint(FeedKind.ADJUSTMENT, node.code, {"lines": lines})
    received = Received(node=node, source=source, message_id=message_id, fingerprint=content_print)
    with transaction.atomic():
        node = lock_node(node.pk)
        previous = previous_result(received)
        if previous is not None:
            return previous
        product_ids = [products[sku].pk for sku, _, _ in lines]
        create_missing_levels(node.pk, product_ids)
        levels = {
            level.product_id: level for level in lock_stock_levels_of_node(node.pk, product_ids)
        }
        before = {level.pk: level.on_hand for level in levels.values()}
        running = {product_id: levels[product_id].on_hand for product_id in levels}
        refused = []
        for index, (sku, delta, _) in enumerate(lines):
            product_id = products[sku].pk
            running[product_id] += delta
            if running[product_id] < 0:
                refused.append(
                    FieldError(
                        InventoryErrorCode.ON_HAND_WOULD_GO_NEGATIVE,
                        f"{sku}: on hand would become {running[product_id]}.",
                        f"lines[{index}].delta",
                    )
                )
        if refused:
            raise AdjustmentRefused(refused)  # rolls back the rows created above
        message = keep_message(received, FeedKind.ADJUSTMENT, payload, None)
        now = timezone.now()
        changed_levels = []
        for product_id, level in sorted(levels.items()):
            net = running[product_id] - level.on_hand
            if net == 0:
                continue
            StockLevel.objects.filter(pk=level.pk, on_hand__gte=-net).update(
                on_hand=F("on_hand") + net, updated_at=now
            )
            level.on_hand = running[product_id]
            changed_levels.append(level)
        write_movements(
            [
                movement(
                    node_id=node.pk,
                    product_id=products[sku].pk,
                    delta_on_hand=delta,
                    reason=MovementReason.ADJUSTMENT,
                    reference_type=FEED_REFERENCE,
                    reference_id=str(message.pk),
                    note=reason,
                    source_system=source,
                    actor=actor,
                    occurred_at=now,
                )
                for sku, delta, reason in lines
            ]
        )
        sku_of = {product.pk: sku for sku, product in products.items()}
        changes = tuple(_change(level, before[level.pk], sku_of) for level in changed_levels)
        restocked = NodeStockChange(node, tuple(more_available(changed_levels, before)))
        event = record_event(
            stream=stream_for_node(node.code),
            type=INVENTORY_ADJUSTED,
            actor=actor,
            payload={
                "feed_message_id": message.pk,
                "source": source,
                "message_id": message_id,
                "lines": [
                    {"sku": sku, "delta": delta, "reason": reason} for sku, delta, reason in lines
                ],
                "changed": _changed_payload(changes),
            },
            subject=restocked,  # backorders may try the new stock (fulfillment/handlers.py)
        )
        result = _applied(
            FeedKind.ADJUSTMENT,
            node=node,
            message=message,
            event=event,
            counted=changed_levels,
            changes=changes,
            sku_of=sku_of,
            actor=actor,
        )
    return result


# --- helpers -----------------------------------------------------------------------------


def _changed_payload(changes: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"sku": c.sku, "on_hand_before": c.on_hand_before, "on_hand": c.on_hand} for c in changes
    ]


def _applied(
    kind: FeedKind,
    *,
    node: Node,
    message: InboundMessage,
    event: Any,
    counted: Any,
    changes: Any,
    sku_of: Any,
    actor: Actor,
) -> FeedResult:
    """After a feed changed the counters (in its transaction): record the oversells it revealed
    among `counted` levels (and their case), and store the result on its inbound message."""
    oversells = record_oversells(
        node=node,
        levels=counted,
        sku_of=sku_of,
        feed_message=message,
        cause=kind,
        actor=actor,
        causation_id=event.event_id,
    )
    label = "Snapshot" if kind == FeedKind.SNAPSHOT else "Adjustment"
    result = FeedResult(
        status=FeedStatus.APPLIED,
        kind=kind,
        node=node.code,
        source=message.source,
        message_id=message.message_id,
        detail=_applied_detail(label, len(changes), len(oversells)),
        changed=changes,
        oversells=tuple(oversells),
    )
    store_result(message, result)
    return result


def _resolve(
    node_code: str, skus: list[str], *, field: str
) -> tuple[Node | None, dict[str, Product], list[FieldError]]:
    errors = []
    node = get_node_by_code(node_code)
    if node is None:
        errors.append(
            FieldError(InventoryErrorCode.UNKNOWN_NODE, f"No node with code {node_code!r}.", "node")
        )
    products = products_by_sku(skus)
    errors += [
        FieldError(
            InventoryErrorCode.UNKNOWN_SKU, f"No product with SKU {sku!r}.", f"{field}[{i}].sku"
        )
        for i, sku in enumerate(skus)
        if sku not in products
    ]
    return node, products, errors


def _error_order(error: FieldError) -> int:
    """Errors in input order: node first, then by line index (counts[2] before counts[10]);
    the sort is stable, so a line's own errors keep their order (sku before on_hand)."""
    index = (error.field or "").partition("[")[2].partition("]")[0]
    return int(index) if index.isdigit() else -1


def _skus_of(levels: list[StockLevel], listed: dict[str, Product]) -> dict[int, str]:
    """SKU per product of the node's levels: listed ones known, the others in one query."""
    sku_of = {product.pk: sku for sku, product in listed.items()}
    unknown = [level.product_id for level in levels if level.product_id not in sku_of]
    if unknown:
        sku_of.update(Product.objects.filter(pk__in=unknown).values_list("pk", "sku"))
    return sku_of


def _change(level: StockLevel, on_hand_before: int, sku_of: dict[int, str]) -> StockChange:
    return StockChange(
        sku=sku_of[level.product_id],
        on_hand_before=on_hand_before,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.on_hand - level.reserved - level.safety_stock,
    )


def _applied_detail(what: str, changed: int, oversells: int) -> str:
    text = f"{what} applied: {changed} stock level{'s' if changed != 1 else ''} changed."
    if oversells:
        text += f" {oversells} oversold (on hand below reserved): see `oversells`."
    return text
