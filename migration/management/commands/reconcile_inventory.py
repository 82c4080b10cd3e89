"""`manage.py reconcile_inventory [--mapping FILE --input FILE] [--report OUT.json]`

Runs one reconciliation now: oms's on-hand per node and SKU against the node counts in a file
read through a `stock` mapping (a path or a shipped name in migration/mappings/); or, given an
`order_statuses` mapping (e.g. generic_order_status_csv), oms's order statuses against a legacy
status feed during dual running (the orders whose statuses differ, with both statuses). Without
--mapping/--input it runs every active reconciliation source (admin: Migration ›
Reconciliation sources; node counts or status feeds) and asks every API node with a
`counts_url` for its counts, as the scheduled job does. `--query-nodes [--node CODE ...]` only
asks the nodes (their connector query) for their counts. Prints the
variance report (pairs, accuracy, units and value off, per node) or the status comparison, and
the exception cases raised and resolved.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration.mapping.schema import MappingError
from migration.models import ReconciliationSource
from migration.services.jobs import resolve_mapping_path
from migration.services.node_counts import queryable_nodes
from migration.services.reconciliation import (
    NoQueryableNode,
    NotAStockMapping,
    ReconciliationResult,
    reconcile_all_sources,
    reconcile_node_queries,
    reconcile_source,
)
from migration.services.status_reconciliation import StatusReconciliationResult
from oms.core.actors import Actor


class Command(BaseCommand):
    help = (
        "Compare oms's stock with the nodes' own counts now (variance report, cases, KPI), or "
        "oms's order statuses with a legacy status feed (an order_statuses mapping)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mapping", help="A stock or order_statuses mapping file, or a shipped name."
        )
        parser.add_argument("--input", type=Path, help="The node count or status feed file.")
        parser.add_argument("--report", type=Path, help="Also write the figures here as JSON.")
        parser.add_argument(
            "--query-nodes",
            action="store_true",
            help="Ask the nodes for their counts through their connector (API nodes with a "
            "counts_url in their connector settings) instead of reading a file.",
        )
        parser.add_argument(
            "--node",
            action="append",
            default=[],
            help="With --query-nodes: only this node (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("reconcile_inventory")
        if bool(options["mapping"]) != bool(options["input"]):
            raise CommandError("give both --mapping and --input, or neither")
        if options["query_nodes"] and options["mapping"]:
            raise CommandError("give --query-nodes or --mapping/--input, not both")
        if options["node"] and not options["query_nodes"]:
            raise CommandError("--node goes with --query-nodes")
        try:
            if options["query_nodes"]:
                results: list[ReconciliationResult | StatusReconciliationResult] = [
                    reconcile_node_queries(node_codes=options["node"] or None, actor=actor)
                ]
            elif options["mapping"]:
                if not resolve_mapping_path(options["mapping"]).exists():
                    raise CommandError(f"no mapping file {options['mapping']}")
                if not options["input"].exists():
                    raise CommandError(f"no input file {options['input']}")
                results = [
                    reconcile_source(
                        mapping_name=options["mapping"], input_path=options["input"], actor=actor
                    )
                ]
            else:
                if (
                    not ReconciliationSource.objects.filter(is_active=True).exists()
                    and not queryable_nodes()
                ):
                    raise CommandError(
                        "no active reconciliation source: add one in the admin (Migration › "
                        "Reconciliation sources), give an API node a counts_url, or give "
                        "--mapping and --input"
                    )
                results = reconcile_all_sources(actor=actor)
        except (MappingError, NotAStockMapping, NoQueryableNode) as exc:
            raise CommandError(str(exc)) from None
        for result in results:
            for line in result.summary_lines():
                self.stdout.write(line)
        if options["report"]:
            options["report"].write_text(json.dumps([_figures(r) for r in results], indent=2))


def _figures(result: ReconciliationResult | StatusReconciliationResult) -> dict[str, Any]:
    if isinstance(result, StatusReconciliationResult):
        return result.figures()
    run = result.reconciliation
    return {
        "reconciliation": run.pk,
        "source": run.source,
        "input": run.input_name,
        "pairs": run.pairs,
        "within_tolerance": run.within_tolerance,
        "accuracy": run.accuracy,
        "variance_pairs": run.variance_pairs,
        "over_threshold": run.over_threshold,
        "units_over": run.units_over,
        "units_under": run.units_under,
        "value": run.value,
        "variances": [
            {
                "node": v.node.code,
                "sku": v.product.sku,
                "oms_on_hand": v.oms_on_hand,
                "node_on_hand": v.node_on_hand,
                "variance": v.variance,
                "value": str(v.value) if v.value is not None else None,
                "currency": v.currency,
                "over_threshold": v.over_threshold,
            }
            for v in run.variances.select_related("node", "product")
        ],
        "cases_raised": result.cases_raised,
        "cases_resolved": result.cases_resolved,
        "read": result.report.as_dict(),
    }
