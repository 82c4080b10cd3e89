"""Inventory reconciliation: oms's on-hand counts against what the nodes themselves count.

`record_reconciliation()` takes the node counts (read by the caller from a node snapshot file or
feed: migration/services/reconciliation.py reads them through a mapping) and stores, in one
transaction, an `InventoryReconciliation` with its per-node figures (`NodeReconciliation`) and one
`InventoryVariance` row per node×SKU pair that differs, and records `inventory.reconciled`. It
never changes stock: fixing a count is the feeds' business (a snapshot or an adjustment).

A count is a FULL count of each node it names (as a snapshot feed is): a product oms stocks at
that node that the count does not list counts 0 there. Nodes the count does not name are not
compared.

- variance = oms on-hand − the node's count (positive: oms thinks there is more than there is);
- a pair is within tolerance when |variance| ≤ `tolerance_units` (accuracy = share of such pairs);
- a pair is over the case threshold when |variance| > `case_units`, or its value (|variance| ×
  unit value) > `case_value` (when `case_value` is above 0). The caller opens cases for those.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.events import INVENTORY_RECONCILED, stream_for_reconciliation
from inventory.models import (
    InventoryReconciliation,
    InventoryVariance,
    Node,
    NodeReconciliation,
    StockLevel,
)
from oms.core.actors import Actor
from oms.events.services import record_event


@dataclass(frozen=True)
class NodeCount:
    node_id: int
    product_id: int
    on_hand: int


@dataclass(frozen=True)
class VarianceThresholds:
    tolerance_units: int = 0
    case_units: int = 2
    case_value: Decimal = Decimal("0")


# product ids -> {product id: (unit value, currency)}; products without a value are left out.
UnitValues = Callable[[set[int]], dict[int, tuple[Decimal, str]]]


def _no_values(product_ids: set[int]) -> dict[int, tuple[Decimal, str]]:
    return {}


def record_reconciliation(
    *,
    source: str,
    counts: Iterable[NodeCount],
    thresholds: VarianceThresholds,
    actor: Actor,
    input_name: str = "",
    unit_values: UnitValues = _no_values,
    report: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> InventoryReconciliation:
    """Compare and store (see the module docstring). A pair counted twice keeps the last count."""
    at = at or timezone.now()
    counted: dict[tuple[int, int], int] = {}
    for count in counts:
        counted[(count.node_id, count.product_id)] = count.on_hand
    node_ids = {node_id for node_id, _ in counted}
    with transaction.atomic():
        ours = {
            (node_id, product_id): on_hand
            for node_id, product_id, on_hand in StockLevel.objects.filter(
                node_id__in=node_ids
            ).values_list("node_id", "product_id", "on_hand")
        }
        pairs = sorted(set(counted) | set(ours))
        values = unit_values({product_id for _, product_id in pairs}) if pairs else {}
        run = InventoryReconciliation.objects.create(
            source=source[:100],
            input_name=input_name[:300],
            reconciled_at=at,
            tolerance_units=thresholds.tolerance_units,
            case_units=thresholds.case_units,
            case_value=thresholds.case_value,
            report=report or {},
        )
        per_node: dict[int, dict[str, Any]] = defaultdict(
            lambda: {
                "pairs": 0,
                "within": 0,
                "variance": 0,
                "over": 0,
                "units": 0,
                "value": defaultdict(Decimal),
            }  # fmt: skip
        )
        value_total: dict[str, Decimal] = defaultdict(Decimal)
        rows: list[InventoryVariance] = []
        for node_id, product_id in pairs:
            oms_on_hand = ours.get((node_id, product_id), 0)
            node_on_hand = counted.get((node_id, product_id), 0)
            variance = oms_on_hand - node_on_hand
            figures = per_node[node_id]
            figures["pairs"] += 1
            within = abs(variance) <= thresholds.tolerance_units
            figures["within"] += within
            if variance == 0:
                continue
            unit_value, currency = values.get(product_id, (None, ""))
            value = abs(variance) * unit_value if unit_value is not None else None
            over = abs(variance) > thresholds.case_units or (
                value is not None and thresholds.case_value > 0 and value > thresholds.case_value
            )
            figures["variance"] += 1
            figures["over"] += over
            figures["units"] += abs(variance)
            if value is not None:
                figures["value"][currency] += value
                value_total[currency] += value
            rows.append(
                InventoryVariance(
                    reconciliation=run,
                    node_id=node_id,
                    product_id=product_id,
                    oms_on_hand=oms_on_hand,
                    node_on_hand=node_on_hand,
                    variance=variance,
                    unit_value=unit_value,
                    currency=currency,
                    value=value,
                    within_tolerance=within,
                    over_threshold=over,
                )
            )
        InventoryVariance.objects.bulk_create(rows, batch_size=1000)
        NodeReconciliation.objects.bulk_create(
            NodeReconciliation(
                reconciliation=run,
                node_id=node_id,
                reconciled_at=at,
                pairs=f["pairs"],
                within_tolerance=f["within"],
                variance_pairs=f["variance"],
                over_threshold=f["over"],
                abs_units=f["units"],
                value={c: str(v) for c, v in sorted(f["value"].items())},
            )
            for node_id, f in sorted(per_node.items())
        )
        run.pairs = len(pairs)
        run.within_tolerance = sum(f["within"] for f in per_node.values())
        run.variance_pairs = len(rows)
        run.over_threshold = sum(f["over"] for f in per_node.values())
        run.units_over = sum(r.variance for r in rows if r.variance > 0)
        run.units_under = sum(-r.variance for r in rows if r.variance < 0)
        run.value = {c: str(v) for c, v in sorted(value_total.items())}
        run.save()
        codes = dict(Node.objects.filter(pk__in=per_node).values_list("pk", "code"))
        record_event(
            stream=stream_for_reconciliation(run.pk),
            type=INVENTORY_RECONCILED,
            actor=actor,
            first_in_stream=True,
            payload={
                "reconciliation": run.pk,
                "source": run.source,
                "pairs": run.pairs,
                "within_tolerance": run.within_tolerance,
                "tolerance_units": run.tolerance_units,
                "variance_pairs": run.variance_pairs,
                "over_threshold": run.over_threshold,
                "units_over": run.units_over,
                "units_under": run.units_under,
                "value": run.value,
                "nodes": [
                    {"node": codes[node_id], "pairs": f["pairs"], "over_threshold": f["over"]}
                    for node_id, f in sorted(per_node.items())
                ],
            },
        )
    return run
