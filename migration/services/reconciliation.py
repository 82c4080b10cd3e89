"""Continuous inventory reconciliation: oms's stock against what the nodes count.

`reconcile_inventory()` reads one node count file through a `stock` mapping (the same mappings
that import opening stock: node, SKU, on-hand; node codes and SKU aliases resolve as on import),
hands the counts to inventory (`inventory.services.reconciliation.record_reconciliation`: the
variance report per node×SKU, in units and value, stored with `inventory.reconciled`), then, per
node, opens or refreshes one `inventory_variance` exception case when some pair is over the case
thresholds, and resolves the node's open case once a later reconciliation finds it clean (the
ops reconcile check `_inventory_variance`). Thresholds come from the active exception rule set
(`inventory_tolerance_units`, `inventory_variance_units`, `inventory_variance_value`; defaults
in ops/rules.py), so they are versioned and approved like the other rules.

A unit's value is the product's latest selling price in oms (its newest order line, in that
order's currency); a product never sold has no value and is judged on units only.

`reconcile_source()` runs one mapping over one file by the mapping's kind: a `stock` mapping
here, an `order_statuses` mapping (a legacy status feed during dual running) in
migration/services/status_reconciliation.py. `reconcile_all_sources()` runs it for every active
`ReconciliationSource`, then asks every API node with a `counts_url` for its counts
(`reconcile_node_queries()`, migration/services/node_counts.py): the command without arguments
and the beat task
(`migration.tasks.reconcile_inventory_task`) call it. Running it
again stores another reconciliation (a new reading of the same counts) and changes no stock;
cases stay one per node (raising again refreshes the open case).
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import OuterRef, Subquery

from inventory.models import InventoryReconciliation, InventoryVariance, Node, Product
from inventory.services.reconciliation import (
    NodeCount,
    VarianceThresholds,
    record_reconciliation,
)
from migration.importers.catalogue import ProductResolver
from migration.mapping.extract import Extractor, RowError
from migration.mapping.schema import Mapping, MappingError, load_mapping
from migration.models import ReconciliationSource
from migration.services.jobs import resolve_mapping_path
from migration.services.node_counts import query_node_counts, queryable_nodes
from migration.services.report import Report
from migration.services.runs import clean_records
from migration.services.status_reconciliation import (
    StatusReconciliationResult,
    reconcile_order_statuses,
)
from oms.core.actors import Actor
from ops.models import ExceptionKind
from ops.selectors import current_thresholds
from ops.services.cases import raise_exception_case
from ops.services.reconcile import reconcile_open_cases
from orders.models import OrderLine

SYSTEM = Actor.system("reconcile_inventory")
logger = logging.getLogger(__name__)
CASE_SKUS = 20  # the worst pairs a case lists


class NotAStockMapping(ValueError):
    pass


RECONCILED_KINDS = ("stock", "order_statuses")


@dataclass
class ReconciliationResult:
    reconciliation: InventoryReconciliation
    report: Report
    cases_raised: list[int] = field(default_factory=list)
    cases_resolved: list[int] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        run = self.reconciliation
        lines = [
            f"reconciliation #{run.pk} {run.source} on {run.input_name}",
            f"records read {self.report.records}, refused {self.report.refused}",
            f"pairs {run.pairs}, within ±{run.tolerance_units} {run.within_tolerance} "
            f"(accuracy {run.accuracy or 0:.1f}%), differing {run.variance_pairs}, "
            f"over threshold {run.over_threshold}",
            f"units: oms over node {run.units_over}, oms under node {run.units_under}",
        ]
        lines += [f"value {currency} {amount}" for currency, amount in run.value.items()]
        for node in run.nodes.select_related("node").order_by("node__code"):
            if node.variance_pairs:
                lines.append(
                    f"  {node.node.code}: {node.variance_pairs} SKUs differ, {node.abs_units} "
                    f"units, {node.over_threshold} over threshold"
                )
        for code, count in sorted(self.report.error_counts.items()):
            lines.append(f"  {code}: {count}")
        lines.append(
            f"cases raised or refreshed {len(self.cases_raised)}, "
            f"resolved {len(self.cases_resolved)}"
        )
        return lines


def variance_thresholds() -> VarianceThresholds:
    current = current_thresholds()
    return VarianceThresholds(
        tolerance_units=int(current["inventory_tolerance_units"]),
        case_units=int(current["inventory_variance_units"]),
        case_value=Decimal(int(current["inventory_variance_value"])),
    )


def latest_unit_values(product_ids: set[int]) -> dict[int, tuple[Decimal, str]]:
    newest = OrderLine.objects.filter(product_id=OuterRef("pk")).order_by("-id")
    rows = (
        Product.objects.filter(pk__in=product_ids)
        .annotate(
            price=Subquery(newest.values("unit_price")[:1]),
            currency=Subquery(newest.values("order__currency")[:1]),
        )
        .values_list("pk", "price", "currency")
    )
    return {pk: (price, currency) for pk, price, currency in rows if price is not None}


def read_node_counts(mapping: Mapping, input_path: Path, report: Report) -> Iterator[NodeCount]:
    """Each readable record as a count; a row naming an unknown node or SKU, or a count that is
    not a whole number ≥ 0, is refused in the report (with its line) and not compared."""
    extractor = Extractor(mapping)
    products = ProductResolver(create_missing=False)
    nodes: dict[str, Node | None] = {}
    seen: set[tuple[int, int]] = set()
    for _read, record in clean_records(mapping, input_path, report, extractor):
        fields = record.fields
        code, sku, on_hand = str(fields["node"]), str(fields["sku"]), fields["on_hand"]
        if code not in nodes:
            nodes[code] = Node.objects.filter(code=code).first()
        node, product = nodes[code], products.find(sku)
        errors = []
        if node is None:
            errors.append(RowError(record.line, "unknown_node", "node", "no such node", code))
        if product is None:
            errors.append(RowError(record.line, "unknown_sku", "sku", "no such product", sku))
        if not isinstance(on_hand, int) or on_hand < 0:
            errors.append(RowError(record.line, "bad_quantity", "on_hand", "not a count", on_hand))
        if errors or node is None or product is None:
            report.refuse(errors)
            continue
        if (node.pk, product.pk) in seen:
            report.duplicates_in_file += 1
            report.refuse(
                [
                    RowError(
                        record.line, "duplicate_in_file", "sku", "counted twice", f"{code}/{sku}"
                    )
                ]
            )
            continue
        seen.add((node.pk, product.pk))
        report.created += 1
        yield NodeCount(node_id=node.pk, product_id=product.pk, on_hand=on_hand)
    for (name, value), count in extractor.unmapped.items():
        report.unmapped[name][value] += count


def reconcile_inventory(
    *, mapping_name: str, input_path: Path, actor: Actor = SYSTEM, source: str = ""
) -> ReconciliationResult:
    """One reconciliation of the counts in `input_path` (see the module docstring). Raises
    MappingError for a broken mapping and NotAStockMapping for a mapping of another kind."""
    mapping = load_mapping(resolve_mapping_path(mapping_name))
    if mapping.kind != "stock":
        raise NotAStockMapping(f"{mapping.name} maps {mapping.kind}, not stock counts")
    report = Report(
        mapping=mapping.name,
        source=mapping.source,
        kind="reconciliation",
        input=str(input_path),
        dry_run=True,
    )
    counts = list(read_node_counts(mapping, input_path, report))
    return _compare(
        counts, report, source=source or mapping.source, input_name=str(input_path), actor=actor
    )


class NoQueryableNode(ValueError):
    pass


def reconcile_node_queries(
    *, node_codes: list[str] | None = None, actor: Actor = SYSTEM, source: str = "node-query"
) -> ReconciliationResult:
    """One reconciliation of the counts the nodes answer when asked through their connector
    (migration/services/node_counts.py: every active API node with a `counts_url`, or those of
    `node_codes`). A node that cannot be reached, or answers something else than a count, is a
    report line and is not compared (its open case stays as it was). Raises NoQueryableNode
    when no node can be asked."""
    queries = queryable_nodes(node_codes)
    if not queries:
        raise NoQueryableNode(
            "no active API node has a counts_url in its connector settings"
            + (f" among {', '.join(node_codes)}" if node_codes else "")
        )
    names = ", ".join(q.node.code for q in queries)
    report = Report(
        mapping="node connector query",
        source=source,
        kind="reconciliation",
        input=names,
        dry_run=True,
    )
    products = ProductResolver(create_missing=False)
    counts = [count for query in queries for count in query_node_counts(query, report, products)]
    return _compare(
        counts, report, source=source, input_name=f"connector query: {names}", actor=actor
    )


def _compare(
    counts: list[NodeCount], report: Report, *, source: str, input_name: str, actor: Actor
) -> ReconciliationResult:
    """Store the variance report of `counts`, raise a case per node over the thresholds and
    resolve the cases of nodes now clean."""
    thresholds = variance_thresholds()
    run = record_reconciliation(
        source=source,
        input_name=input_name,
        counts=counts,
        thresholds=thresholds,
        unit_values=latest_unit_values,
        actor=actor,
        report=report.as_dict(),
    )
    result = ReconciliationResult(reconciliation=run, report=report)
    for figures in run.nodes.filter(over_threshold__gt=0).select_related("node"):
        case = raise_exception_case(
            kind=ExceptionKind.INVENTORY_VARIANCE,
            node=figures.node,
            summary=(
                f"{figures.over_threshold} SKUs at {figures.node.code} differ from the node's "
                f"count beyond the thresholds ({figures.abs_units} units in all)"
            ),
            details=_case_details(run, figures.node),
            actor=actor,
        )
        result.cases_raised.append(case.pk)
    result.cases_resolved = reconcile_open_cases(kinds=[ExceptionKind.INVENTORY_VARIANCE])
    return result


def _case_details(run: InventoryReconciliation, node: Node) -> dict[str, Any]:
    worst = sorted(
        InventoryVariance.objects.filter(
            reconciliation=run, node=node, over_threshold=True
        ).select_related("product"),
        key=lambda v: (-abs(v.variance), v.product.sku),
    )
    return {
        "reconciliation": run.pk,
        "source": run.source,
        "node": node.code,
        "thresholds": {
            "units": run.case_units,
            "value": str(run.case_value),
            "tolerance_units": run.tolerance_units,
        },
        "skus": [
            {
                "sku": v.product.sku,
                "oms_on_hand": v.oms_on_hand,
                "node_on_hand": v.node_on_hand,
                "variance": v.variance,
                "value": str(v.value) if v.value is not None else None,
                "currency": v.currency,
            }
            for v in worst[:CASE_SKUS]
        ],
    }


def reconcile_source(
    *, mapping_name: str, input_path: Path, actor: Actor = SYSTEM, source: str = ""
) -> ReconciliationResult | StatusReconciliationResult:
    """One reconciliation of `input_path` by its mapping's kind: node counts (`stock`) or a
    legacy order status feed (`order_statuses`). Raises MappingError for a broken mapping and
    NotAStockMapping for a mapping of another kind."""
    mapping = load_mapping(resolve_mapping_path(mapping_name))
    if mapping.kind == "order_statuses":
        return reconcile_order_statuses(
            mapping=mapping, input_path=input_path, actor=actor, source=source
        )
    if mapping.kind != "stock":
        raise NotAStockMapping(
            f"{mapping.name} maps {mapping.kind}, not stock counts or order statuses"
        )
    return reconcile_inventory(
        mapping_name=mapping_name, input_path=input_path, actor=actor, source=source
    )


def reconcile_all_sources(
    *, actor: Actor = SYSTEM
) -> list[ReconciliationResult | StatusReconciliationResult]:
    """Every active source in turn (node counts or a status feed, by its mapping's kind); a
    source whose mapping or file cannot be read is logged and skipped, so one broken source
    does not stop the others."""
    results: list[ReconciliationResult | StatusReconciliationResult] = []
    for source in ReconciliationSource.objects.filter(is_active=True):
        try:
            results.append(
                reconcile_source(
                    mapping_name=source.mapping_name,
                    input_path=Path(source.input_path),
                    actor=actor,
                    source=source.name,
                )
            )
        except (MappingError, NotAStockMapping, OSError):
            logger.exception("reconciliation source %s cannot be read", source.name)
    if queryable_nodes():
        results.append(reconcile_node_queries(actor=actor))
    return results
