"""`seed_demo` leaves two sample import jobs (dry runs of the documented examples), once."""

from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import InventoryReconciliation
from migration.models import ImportJob, ReconciliationSource, StatusReconciliation
from ops.models import ExceptionCase
from orders.models import Order


@pytest.mark.django_db
def test_seed_demo_makes_the_sample_import_jobs_once():
    call_command("seed_demo", stdout=StringIO())
    orders = Order.objects.count()
    call_command("seed_demo", stdout=StringIO())
    jobs = {job.mapping_name: job for job in ImportJob.objects.all()}
    assert set(jobs) == {"generic_nodes_csv", "generic_orders_csv"}
    assert all(job.dry_run and job.status == "done" for job in jobs.values())
    nodes = jobs["generic_nodes_csv"].report
    assert (nodes["records"], nodes["created"], nodes["refused"]) == (2, 2, 0)
    assert jobs["generic_nodes_csv"].is_clean
    orders_report = jobs["generic_orders_csv"].report
    assert orders_report["records"] == 6
    assert orders_report["refused"] == 6
    assert orders_report["error_counts"]["unknown_sku"] >= 1
    assert Order.objects.count() == orders  # a dry run wrote no order

    # the demo's reconciliation: one store's count with a planted drift, reconciled once
    runs = list(InventoryReconciliation.objects.filter(source="demo-store-counts"))
    assert len(runs) == 1
    assert (runs[0].variance_pairs, runs[0].over_threshold, runs[0].units_over) == (2, 1, 3)
    assert runs[0].units_under == 1
    assert ReconciliationSource.objects.get(name="demo-store-counts").is_active
    assert ExceptionCase.objects.filter(kind="inventory_variance").count() == 1

    # the demo's legacy status feed: every web order, one planted difference, compared once
    [status_run] = StatusReconciliation.objects.filter(source="demo-legacy-statuses")
    web = Order.objects.filter(channel__code="web").count()
    assert (status_run.compared, status_run.mismatched, status_run.missing) == (web, 1, 0)
    [mismatch] = status_run.mismatches
    assert mismatch["legacy_status"] == "SHIPPED"
    assert mismatch["oms_status"] in ("created", "backordered", "allocated", "released")
    assert status_run.report["refused"] == 0
    assert ExceptionCase.objects.filter(kind="order_status_mismatch").count() == 1
