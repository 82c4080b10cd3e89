"""`seed_demo` leaves two sample import jobs (dry runs of the documented examples), once."""

from io import StringIO

import pytest
from django.core.management import call_command

from migration.models import ImportJob
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
    assert orders_report["records"] == 5
    assert orders_report["refused"] == 5
    assert orders_report["error_counts"]["unknown_sku"] >= 1
    assert Order.objects.count() == orders  # a dry run wrote no order
