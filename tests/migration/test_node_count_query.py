"""Reconciliation against a node's counts read through its connector (issue 14, item 5): an API
node with a `counts_url` answers its full count over HTTP; a local HTTP server plays the node
(tests/channels/fake_platform.py). A planted drift of 3 units opens one case; the node's
corrected count closes it. Unreachable nodes and bad rows are report lines."""

import json

import pytest
from django.core.management import CommandError, call_command

from inventory.models import InventoryVariance, Node
from migration.services.reconciliation import (
    NoQueryableNode,
    reconcile_all_sources,
    reconcile_node_queries,
)
from oms.core.actors import Actor
from ops.models import CaseStatus, ExceptionCase
from tests.channels.fake_platform import FakePlatform, running

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def node_server(settings, example_stock):
    """dc-east serves its counts at /counts; the answer is what `counts` holds at the call."""
    settings.OMS_CHANNELS_ALLOWED_HOSTS = ["127.0.0.1"]
    counts = {sku: qty for (node, sku), qty in example_stock.items() if node == "dc-east"}
    platform = FakePlatform()
    platform.answer(
        "GET",
        "/counts",
        lambda _p: {
            "node": "dc-east",
            "as_of": "2026-12-06T10:00:00Z",
            "counts": [{"sku": sku, "on_hand": qty} for sku, qty in sorted(counts.items())],
        },
    )
    with running(platform):
        Node.objects.filter(code="dc-east").update(
            connector_settings={"counts_url": f"{platform.base_url}/counts"}
        )
        yield platform, counts


def test_planted_drift_read_by_connector_query_opens_one_case_and_fixed_counts_close_it(
    node_server,
):
    platform, counts = node_server
    counts["TENT-2P"] -= 3  # the node counts 3 fewer than oms holds

    first = reconcile_node_queries(actor=ACTOR)

    run = first.reconciliation
    assert len(platform.calls("GET", "/counts")) == 1
    assert run.input_name == "connector query: dc-east"
    assert (run.variance_pairs, run.over_threshold, run.units_over, run.units_under) == (1, 1, 3, 0)
    variance = InventoryVariance.objects.get(reconciliation=run)
    assert (variance.node.code, variance.product.sku, variance.variance) == (
        "dc-east", "TENT-2P", 3,
    )  # fmt: skip
    assert run.nodes.count() == 1  # only the node that was asked is compared
    case = ExceptionCase.objects.get()
    assert (case.kind, case.subject_label, case.status) == (
        "inventory_variance", "dc-east", CaseStatus.OPEN,
    )  # fmt: skip
    assert first.cases_raised == [case.pk]

    counts["TENT-2P"] += 3  # the node's recount agrees with oms again
    fixed = reconcile_node_queries(actor=ACTOR)

    assert fixed.reconciliation.variance_pairs == 0
    assert fixed.cases_resolved == [case.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert ExceptionCase.objects.count() == 1


def test_an_unreachable_node_is_a_report_line_and_keeps_its_case(node_server):
    platform, counts = node_server
    counts["TENT-2P"] -= 3
    reconcile_node_queries(actor=ACTOR)
    platform.fail_first("GET", "/counts", 1, status=503)

    down = reconcile_node_queries(actor=ACTOR)

    assert down.report.error_counts == {"node_unreachable": 1}
    assert down.reconciliation.pairs == 0
    assert down.cases_resolved == []
    assert ExceptionCase.objects.get().status == CaseStatus.OPEN


def test_bad_rows_and_another_nodes_answer_are_report_lines(node_server):
    platform, counts = node_server
    counts["NO-SUCH-SKU"] = 4
    counts["TENT-2P"] = -1

    result = reconcile_node_queries(actor=ACTOR)

    assert result.report.error_counts == {"unknown_sku": 1, "bad_quantity": 1}
    platform.answer("GET", "/counts", {"node": "dc-west", "counts": []})
    other = reconcile_node_queries(actor=ACTOR)
    assert other.report.error_counts == {"bad_response": 1}


def test_command_and_scheduled_run_query_the_nodes(node_server, capsys, tmp_path):
    platform, counts = node_server
    counts["TENT-2P"] -= 3
    out = tmp_path / "report.json"

    call_command("reconcile_inventory", "--query-nodes", "--node", "dc-east", "--report", out)

    printed = capsys.readouterr().out
    assert "connector query: dc-east" in printed
    assert "dc-east: 1 SKUs differ, 3 units, 1 over threshold" in printed
    assert json.loads(out.read_text())[0]["units_over"] == 3
    results = reconcile_all_sources(actor=ACTOR)  # no file source: the node query alone
    assert [r.reconciliation.input_name for r in results] == ["connector query: dc-east"]
    assert len(platform.calls("GET", "/counts")) == 2
    with pytest.raises(CommandError, match="counts_url"):
        call_command("reconcile_inventory", "--query-nodes", "--node", "dc-west")
    with pytest.raises(NoQueryableNode):
        reconcile_node_queries(node_codes=["dc-west"], actor=ACTOR)
