"""Continuous inventory reconciliation (issue 14, item 5): oms's stock against node counts read
through stock mappings; the variance report; cases over the (versioned) thresholds, closed when
the drift is fixed; the accuracy KPI; the command, the beat task and the source admin."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inventory.models import (
    InventoryReconciliation,
    InventoryVariance,
    Node,
    Product,
    StockLevel,
)
from inventory.selectors import find_ledger_mismatches, inventory_accuracy
from inventory.services.feeds import apply_snapshot
from migration.models import ReconciliationSource
from migration.services.reconciliation import reconcile_inventory
from migration.tasks import reconcile_inventory_task
from oms.celery import app as celery_app
from oms.core.actors import Actor
from oms.events.models import Event
from ops.kpis.dashboard import build_dashboard
from ops.models import CaseStatus, ExceptionCase
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    submit_exception_rule_set,
)
from tests.factories.orders import captured_order
from tests.factories.users import superuser
from tests.migration.conftest import corpus, load

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
EXAMPLES = Path(__file__).resolve().parents[2] / "migration" / "examples"
COUNTS = "location,sku,qty,safety\n"


def counts_file(tmp_path: Path, rows: dict[tuple[str, str], int], name: str = "counts.csv") -> Path:
    path = tmp_path / name
    body = "".join(f"{node.upper()},{sku},{qty},0\n" for (node, sku), qty in sorted(rows.items()))
    path.write_text(COUNTS + body)
    return path


def reconcile(path: Path):
    return reconcile_inventory(mapping_name="generic_stock_csv", input_path=path, actor=ACTOR)


def test_a_node_that_agrees_is_accurate_and_opens_nothing(example_stock, tmp_path):
    result = reconcile(counts_file(tmp_path, example_stock))

    run = result.reconciliation
    assert (run.pairs, run.within_tolerance, run.variance_pairs) == (len(example_stock),) * 2 + (0,)
    assert run.accuracy == 100.0
    assert not result.cases_raised
    assert ExceptionCase.objects.count() == 0
    assert Event.objects.filter(type="inventory.reconciled", stream=f"reconciliation:{run.pk}")


def test_planted_drift_of_3_units_opens_one_case_and_a_snapshot_closes_it(example_stock, tmp_path):
    """The issue's acceptance: a drift of 3 units at one node, one case; the node's snapshot
    applied to oms fixes the drift, and the next reconciliation closes the case."""
    node_counts = dict(example_stock)
    node_counts[("dc-east", "TENT-2P")] -= 3  # the node holds 3 fewer than oms thinks
    path = counts_file(tmp_path, node_counts)

    first = reconcile(path)

    run = first.reconciliation
    assert (run.variance_pairs, run.over_threshold, run.units_over, run.units_under) == (1, 1, 3, 0)
    variance = InventoryVariance.objects.get(reconciliation=run)
    assert (variance.node.code, variance.product.sku) == ("dc-east", "TENT-2P")
    assert (variance.oms_on_hand, variance.node_on_hand, variance.variance) == (40, 37, 3)
    case = ExceptionCase.objects.get()
    assert (case.kind, case.subject_type, case.subject_label) == (
        "inventory_variance", "node", "dc-east",
    )  # fmt: skip
    assert case.details["skus"][0]["variance"] == 3
    assert run.accuracy == pytest.approx(100.0 * (len(example_stock) - 1) / len(example_stock))

    again = reconcile(path)  # still off: the same case, refreshed
    assert ExceptionCase.objects.count() == 1
    assert again.cases_raised == [case.pk]
    case.refresh_from_db()
    assert (case.status, case.occurrences) == (CaseStatus.OPEN, 2)

    # the node's full count reaches oms as a snapshot feed: oms now agrees with the node
    apply_snapshot(
        node_code="dc-east",
        as_of=datetime(2026, 12, 6, 12, tzinfo=UTC),
        counts={sku: qty for (node, sku), qty in node_counts.items() if node == "dc-east"},
        source="dc-east",
        message_id="count-1",
        actor=ACTOR,
    )
    fixed = reconcile(path)

    assert fixed.reconciliation.variance_pairs == 0
    assert fixed.cases_resolved == [case.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert "within thresholds" in case.resolution_note
    assert StockLevel.objects.get(node__code="dc-east", product__sku="TENT-2P").on_hand == 37
    assert find_ledger_mismatches() == []


def test_small_drift_counts_against_accuracy_but_opens_no_case(example_stock, tmp_path):
    node_counts = dict(example_stock)
    node_counts[("store-bos", "LAMP-LED")] += 1  # the node found one more than oms has
    result = reconcile(counts_file(tmp_path, node_counts))

    run = result.reconciliation
    assert (run.variance_pairs, run.over_threshold, run.units_under) == (1, 0, 1)
    assert run.within_tolerance == len(example_stock) - 1
    assert not ExceptionCase.objects.exists()


def test_value_over_the_threshold_opens_a_case_for_one_unit(example_stock, tmp_path):
    """Value = |units| × the product's latest selling price: one unit of a 150.00 product is
    over the default 100 value threshold."""
    captured_order(skus=["STOVE-1"], unit_price="150.00")
    node_counts = dict(example_stock)
    node_counts[("dc-east", "STOVE-1")] -= 1
    result = reconcile(counts_file(tmp_path, node_counts))

    variance = InventoryVariance.objects.get(reconciliation=result.reconciliation)
    assert (variance.unit_value, variance.value, variance.currency) == (
        Decimal("150.00"), Decimal("150.00"), "USD",
    )  # fmt: skip
    assert result.reconciliation.value == {"USD": "150.0000"}
    assert ExceptionCase.objects.get().kind == "inventory_variance"


def test_thresholds_come_from_the_active_exception_rule_set(example_stock, tmp_path):
    author, checker = superuser("recon-author"), superuser("recon-checker")
    rule_set = create_exception_rule_set(
        name="lenient counts", rules=[], author=author,
        thresholds={"inventory_variance_units": 5, "inventory_tolerance_units": 3},
    )  # fmt: skip
    submit_exception_rule_set(rule_set_id=rule_set.pk, user=author)
    approve_exception_rule_set(rule_set_id=rule_set.pk, approver=checker)
    node_counts = dict(example_stock)
    node_counts[("dc-east", "TENT-2P")] -= 3
    result = reconcile(counts_file(tmp_path, node_counts))

    run = result.reconciliation
    assert (run.tolerance_units, run.case_units) == (3, 5)
    assert (run.variance_pairs, run.within_tolerance, run.over_threshold) == (
        1, len(example_stock), 0,
    )  # fmt: skip
    assert not ExceptionCase.objects.exists()


def test_a_snapshot_is_a_full_count_of_the_nodes_it_names(example_stock, tmp_path):
    """A SKU oms stocks at a counted node but the count does not list counts 0 there; a node
    the file does not name is not compared."""
    node_counts = {key: qty for key, qty in example_stock.items() if key[0] == "dc-east"}
    dropped = ("dc-east", "STOVE-1")
    del node_counts[dropped]
    result = reconcile(counts_file(tmp_path, node_counts))

    run = result.reconciliation
    assert set(run.nodes.values_list("node__code", flat=True)) == {"dc-east"}
    variance = InventoryVariance.objects.get(reconciliation=run)
    assert (variance.product.sku, variance.node_on_hand, variance.variance) == (
        "STOVE-1", 0, example_stock[dropped],
    )  # fmt: skip


def test_bad_rows_are_report_lines_not_tracebacks(example_stock, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(
        COUNTS + "DC-EAST,TENT-2P,40,0\nNOWHERE,TENT-2P,1,0\nDC-EAST,NO-SUCH,1,0\n"
        "DC-EAST,STOVE-1,lots,0\nDC-EAST,TENT-2P,40,0\n"
    )
    result = reconcile(path)

    counts = dict(result.report.error_counts)
    assert counts == {
        "unknown_node": 1, "unknown_sku": 1, "bad_number": 1, "duplicate_in_file": 1,
    }  # fmt: skip
    assert result.reconciliation.report["error_counts"] == counts
    lines = {e["code"]: e["line"] for e in result.report.errors}
    assert lines["unknown_node"] == 3


def test_kibo_corpus_counts_against_their_own_import(tmp_path):
    """The corpus's Kibo inventory export imported as opening stock and reconciled against
    itself agrees on all 2,003 pairs; one location's count 3 units down opens one case."""
    load("kibo_locations_jsonl", corpus("kibo_locations_jsonl"))
    load("kibo_inventory_jsonl", corpus("kibo_inventory_jsonl"))
    clean = reconcile_inventory(
        mapping_name="kibo_inventory_jsonl", input_path=corpus("kibo_inventory_jsonl")
    )
    assert (clean.reconciliation.pairs, clean.reconciliation.accuracy) == (2003, 100.0)

    rows = [json.loads(line) for line in corpus("kibo_inventory_jsonl").read_text().splitlines()]
    target = next(r for r in rows if r["onHand"] >= 3)
    target["onHand"] -= 3
    drifted = tmp_path / "kibo.jsonl"
    drifted.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = reconcile_inventory(mapping_name="kibo_inventory_jsonl", input_path=drifted)

    assert (result.reconciliation.variance_pairs, result.reconciliation.units_over) == (1, 3)
    case = ExceptionCase.objects.get(kind="inventory_variance")
    assert case.subject_label == Node.objects.get(code=target["locationCode"].lower()).code


def test_accuracy_is_a_dashboard_kpi(example_stock, tmp_path):
    assert (
        next(c for c in build_dashboard()["cards"] if c["title"] == "Inventory accuracy")["today"]
        == "–"
    )
    node_counts = dict(example_stock)
    node_counts[("dc-east", "TENT-2P")] -= 3
    reconcile(counts_file(tmp_path, node_counts))

    accuracy = inventory_accuracy()
    assert accuracy is not None
    assert (accuracy.pairs, accuracy.within_tolerance) == (len(example_stock),
                                                           len(example_stock) - 1)  # fmt: skip
    card = next(c for c in build_dashboard()["cards"] if c["title"] == "Inventory accuracy")
    assert card["today"] == f"{accuracy.rate:.1f}%"
    assert card["period"] == f"{accuracy.rate:.1f}%"


def test_command_prints_the_report_and_writes_json(example_stock, tmp_path, capsys):
    node_counts = dict(example_stock)
    node_counts[("dc-east", "TENT-2P")] -= 3
    path = counts_file(tmp_path, node_counts)
    out = tmp_path / "recon.json"
    call_command(
        "reconcile_inventory", "--mapping", "generic_stock_csv", "--input", str(path),
        "--report", str(out),
    )  # fmt: skip

    printed = capsys.readouterr().out
    assert "over threshold 1" in printed
    assert "dc-east: 1 SKUs differ, 3 units, 1 over threshold" in printed
    figures = json.loads(out.read_text())[0]
    assert figures["variances"][0]["sku"] == "TENT-2P"
    assert len(figures["cases_raised"]) == 1


def test_command_refuses_what_it_cannot_use(tmp_path):
    with pytest.raises(CommandError, match="no active reconciliation source"):
        call_command("reconcile_inventory")
    with pytest.raises(CommandError, match="both --mapping and --input"):
        call_command("reconcile_inventory", "--mapping", "generic_stock_csv")
    with pytest.raises(CommandError, match="maps orders, not stock counts"):
        call_command(
            "reconcile_inventory", "--mapping", "generic_orders_csv",
            "--input", str(EXAMPLES / "orders.csv"),
        )  # fmt: skip


def test_sources_run_from_the_command_and_the_beat_task(example_stock, tmp_path, capsys):
    node_counts = dict(example_stock)
    node_counts[("store-bos", "TENT-2P")] -= 3
    ReconciliationSource.objects.create(
        name="legacy-counts", mapping_name="generic_stock_csv",
        input_path=str(counts_file(tmp_path, node_counts)),
    )  # fmt: skip
    ReconciliationSource.objects.create(
        name="off", mapping_name="generic_stock_csv", input_path="nowhere.csv", is_active=False
    )
    ReconciliationSource.objects.create(  # a broken source is logged and skipped
        name="gone", mapping_name="generic_stock_csv", input_path=str(tmp_path / "gone.csv")
    )
    call_command("reconcile_inventory")
    assert "legacy-counts" in capsys.readouterr().out

    assert reconcile_inventory_task() == 1
    assert list(InventoryReconciliation.objects.values_list("source", flat=True)) == [
        "legacy-counts", "legacy-counts",
    ]  # fmt: skip
    assert ExceptionCase.objects.get().occurrences == 2
    schedule = celery_app.conf.beat_schedule["reconcile-inventory"]
    assert schedule["task"] == "migration.tasks.reconcile_inventory_task"
    assert Product.objects.filter(sku="TENT-2P").exists()
