"""Order status reconciliation during dual running (issue 14, item 5, second half): oms's order
statuses against a legacy status feed read through an `order_statuses` mapping; the stored
comparison; cases above the versioned threshold, closed when the statuses agree again; the same
command, the same sources and beat task."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from migration.models import ReconciliationSource, StatusReconciliation
from migration.services.reconciliation import reconcile_source
from migration.services.status_reconciliation import StatusReconciliationResult
from migration.tasks import reconcile_inventory_task
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    submit_exception_rule_set,
)
from orders.models import Order
from tests.factories.orders import ChannelFactory
from tests.factories.users import superuser
from tests.migration.conftest import EXAMPLES, load

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
FEED = EXAMPLES / "order_statuses.csv"
HEADER = "order_id,status,updated_at\n"


@pytest.fixture
def example_orders():
    """The documented CSV example imported: three history orders, three in flight."""
    ChannelFactory(code="web", name="Web")
    for name, file in [
        ("generic_nodes_csv", "nodes.csv"),
        ("generic_products_csv", "products.csv"),
        ("generic_stock_csv", "stock.csv"),
        ("generic_orders_csv", "orders.csv"),
    ]:
        load(name, EXAMPLES / file)
    return {o.external_id: o for o in Order.objects.all()}


def feed(tmp_path: Path, rows: dict[str, str], extra: str = "") -> Path:
    path = tmp_path / "statuses.csv"
    body = "".join(f"{order_id},{status},2025-03-10 09:00\n" for order_id, status in rows.items())
    path.write_text(HEADER + body + extra)
    return path


def reconcile(path: Path) -> StatusReconciliationResult:
    result = reconcile_source(mapping_name="generic_order_status_csv", input_path=path, actor=ACTOR)
    assert isinstance(result, StatusReconciliationResult)
    return result


def test_the_planted_status_mismatch_is_found_reported_and_opens_one_case(example_orders):
    """The shipped example feed agrees on five orders; the legacy system says F-2001 shipped
    while oms has it still open (captured, not shipped)."""
    f2001 = example_orders["F-2001"]
    assert f2001.status == "created"

    result = reconcile(FEED)

    run = result.reconciliation
    assert (run.compared, run.matching, run.mismatched, run.missing) == (6, 5, 1, 0)
    assert run.case_threshold == 0
    assert run.mismatches == [
        {
            "order_number": f2001.number,
            "channel": "web",
            "legacy_id": "F-2001",
            "oms_status": "created",
            "legacy_status": "SHIPPED",
            "legacy_as_oms": ["shipped"],
            "line": 5,
        }
    ]
    assert StatusReconciliation.objects.get() == run
    event = Event.objects.get(type="migration.statuses_reconciled")
    assert event.stream == f"status-reconciliation:{run.pk}"
    assert (event.payload["compared"], event.payload["mismatched"]) == (6, 1)
    case = ExceptionCase.objects.get(kind="order_status_mismatch")
    assert result.cases_raised == [case.pk]
    assert (case.order_id, case.subject_type, case.subject_id) == (f2001.pk, "order", f2001.pk)
    assert case.details["oms_status"] == "created"
    assert case.details["legacy_status"] == "SHIPPED"
    assert f2001.number in case.summary

    again = reconcile(FEED)  # a new reading; the same case is refreshed, no new one
    assert again.cases_raised == [case.pk]
    assert ExceptionCase.objects.filter(kind="order_status_mismatch").count() == 1
    assert StatusReconciliation.objects.count() == 2
    assert Order.objects.get(pk=f2001.pk).status == "created"  # nothing about orders changes


def test_the_case_closes_when_the_feed_and_oms_agree_again(example_orders, tmp_path):
    statuses = {"F-2001": "SHIPPED", "F-2002": "CREATED"}
    reconcile(feed(tmp_path, statuses))
    case = ExceptionCase.objects.get(kind="order_status_mismatch")

    statuses["F-2001"] = "CREATED"  # coarser than oms's: any open status agrees
    result = reconcile(feed(tmp_path, statuses))

    assert result.reconciliation.mismatched == 0
    assert result.cases_resolved == [case.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_cases_open_only_above_the_active_rule_sets_threshold(example_orders, tmp_path):
    author, checker = superuser("status-author"), superuser("status-checker")
    rule_set = create_exception_rule_set(
        name="dual running lag", rules=[], author=author,
        thresholds={"order_status_mismatches": 1},
    )  # fmt: skip
    submit_exception_rule_set(rule_set_id=rule_set.pk, user=author)
    approve_exception_rule_set(rule_set_id=rule_set.pk, approver=checker)

    one = reconcile(feed(tmp_path, {"F-2001": "SHIPPED", "F-2002": "CREATED"}))
    assert (one.reconciliation.mismatched, one.reconciliation.case_threshold) == (1, 1)
    assert not one.cases_raised

    two = reconcile(feed(tmp_path, {"F-2001": "SHIPPED", "F-2002": "CANCELLED"}))
    assert two.reconciliation.mismatched == 2
    assert len(two.cases_raised) == 2
    assert {c.details["legacy_id"] for c in ExceptionCase.objects.all()} == {"F-2001", "F-2002"}


def test_rows_that_cannot_be_compared_are_report_lines(example_orders, tmp_path):
    path = feed(
        tmp_path,
        {"H-1001": "SHIPPED", "F-9999": "SHIPPED", "F-2002": "ON_ICE"},
        extra="H-1001,SHIPPED,2025-03-10 09:00\nH-1002,SHIPPED,not a date\n",
    )
    result = reconcile(path)

    run = result.reconciliation
    assert (run.compared, run.matching, run.mismatched, run.missing) == (1, 1, 0, 1)
    assert run.not_in_oms == [{"channel": "web", "legacy_id": "F-9999", "line": 3}]
    codes = {(e["line"], e["code"]) for e in run.report["errors"]}
    assert codes == {(4, "unmapped_value"), (5, "duplicate_in_file"), (6, "bad_date")}
    assert run.report["unmapped"] == {"status": {"ON_ICE": 1}}
    assert result.report.refused == 3

    missing_column = tmp_path / "no_status.csv"
    missing_column.write_text("order_id,updated_at\nH-1001,2025-03-10 09:00\n")
    broken = reconcile(missing_column)
    assert broken.report.fatal
    assert broken.reconciliation.compared == 0
    assert "missing_column" in broken.report.error_counts


def test_the_command_reports_order_number_and_both_statuses(example_orders, tmp_path, capsys):
    out = tmp_path / "statuses.json"
    call_command(
        "reconcile_inventory",
        "--mapping",
        "generic_order_status_csv",
        "--input",
        str(FEED),
        "--report",
        str(out),
    )
    printed = capsys.readouterr().out
    number = example_orders["F-2001"].number
    assert "orders compared 6, matching 5, differing 1 (cases above 0), not in oms 0" in printed
    assert f"{number} (web F-2001): oms created, legacy SHIPPED" in printed
    assert "cases raised or refreshed 1, resolved 0" in printed
    [figures] = json.loads(out.read_text())
    assert figures["mismatched"] == 1
    assert figures["mismatches"][0]["order_number"] == number

    with pytest.raises(CommandError, match="maps orders, not stock counts or order statuses"):
        call_command("reconcile_inventory", "--mapping", "generic_orders_csv", "--input", str(FEED))
    with pytest.raises(CommandError, match="compared with oms by reconcile_inventory"):
        call_command("import_legacy", "--mapping", "generic_order_status_csv", "--input", str(FEED))


def test_sources_and_the_beat_task_run_stock_counts_and_status_feeds(example_orders, tmp_path):
    ReconciliationSource.objects.create(
        name="legacy-statuses", mapping_name="generic_order_status_csv", input_path=str(FEED)
    )
    ReconciliationSource.objects.create(
        name="store-counts",
        mapping_name="generic_stock_csv",
        input_path=str(EXAMPLES / "stock.csv"),
    )

    assert reconcile_inventory_task.apply().get() == 2

    run = StatusReconciliation.objects.get()
    assert (run.source, run.mismatched) == ("legacy-statuses", 1)
    assert ExceptionCase.objects.filter(kind="order_status_mismatch").count() == 1


def test_the_admin_lists_and_shows_a_comparison(example_orders, client):
    run = reconcile(FEED).reconciliation
    client.force_login(superuser("status-viewer"))

    listing = client.get(reverse("admin:migration_statusreconciliation_changelist"))
    page = client.get(reverse("admin:migration_statusreconciliation_change", args=[run.pk]))

    assert listing.status_code == 200
    assert page.status_code == 200
    body = page.content.decode()
    assert example_orders["F-2001"].number in body
    assert "SHIPPED" in body
    assert "6 orders compared; 5 match, 1 differ" in body


def test_a_status_feed_source_is_added_and_reconciled_from_the_admin(example_orders, client):
    client.force_login(superuser("status-admin"))
    added = client.post(
        reverse("admin:migration_reconciliationsource_add"),
        {
            "name": "legacy-statuses",
            "mapping_name": "generic_order_status_csv",
            "input_path": str(FEED),
            "is_active": "on",
        },
    )
    assert added.status_code == 302
    source = ReconciliationSource.objects.get(name="legacy-statuses")

    done = client.post(
        reverse("admin:migration_reconciliationsource_changelist"),
        {"action": "reconcile_now", "_selected_action": [source.pk]},
        follow=True,
    )

    run = StatusReconciliation.objects.get(source="legacy-statuses")
    assert run.mismatched == 1
    shown = [str(m) for m in done.context["messages"]]
    assert shown[-1:] == [
        f"legacy-statuses: status reconciliation #{run.pk}, 6 orders compared, 1 differ, "
        "0 not in oms; cases raised 1, resolved 0"
    ]
