"""Import jobs: a real run starts only from a clean or accepted dry run and runs the same
mapping text over the same input; a changed source row is reported, or updates with the flag;
a bad mapping is refused by the command with its lines."""

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Node
from migration.models import ImportJob
from migration.services.jobs import (
    MAPPINGS_DIR,
    DryRunNotAccepted,
    accept_dry_run,
    create_job,
    execute_job,
    start_real_run,
)
from oms.core.actors import Actor
from oms.events.models import Event
from tests.migration.test_scenario import EXAMPLES

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def finished_dry_run(mapping: str, example: str, path=None) -> ImportJob:
    job = create_job(
        mapping_path=MAPPINGS_DIR / f"{mapping}.yaml",
        input_path=path or EXAMPLES / example,
        dry_run=True,
        actor=ACTOR,
    )
    execute_job(job_id=job.pk, actor=ACTOR)
    return ImportJob.objects.get(pk=job.pk)


def test_a_real_run_starts_only_from_a_clean_or_accepted_dry_run():
    dirty = finished_dry_run("generic_orders_csv", "orders.csv")
    assert dirty.errors == 13
    assert not dirty.is_clean
    with pytest.raises(DryRunNotAccepted):
        start_real_run(dry_run_job_id=dirty.pk, actor=ACTOR)
    accept_dry_run(job_id=dirty.pk, actor=ACTOR)
    assert Event.objects.filter(type="migration.dry_run_accepted").count() == 1
    real = start_real_run(dry_run_job_id=dirty.pk, actor=ACTOR)
    assert (real.dry_run, real.status, real.dry_run_of_id) == (False, "pending", dirty.pk)
    assert real.mapping_text == dirty.mapping_text
    assert real.input_name == dirty.input_name

    clean = finished_dry_run("generic_nodes_csv", "nodes.csv")
    assert clean.is_clean
    assert Node.objects.count() == 0
    real = start_real_run(dry_run_job_id=clean.pk, actor=ACTOR)
    report = execute_job(job_id=real.pk, actor=ACTOR)
    assert report is not None
    assert report.created == 2
    assert Node.objects.count() == 2
    assert execute_job(job_id=real.pk, actor=ACTOR) is None  # a repeated task does nothing
    with pytest.raises(DryRunNotAccepted):
        start_real_run(dry_run_job_id=real.pk, actor=ACTOR)  # not a dry run


def test_a_changed_row_is_reported_or_updates_with_the_flag(tmp_path):
    call_command(
        "import_legacy", "--mapping", "generic_nodes_csv", "--input", str(EXAMPLES / "nodes.csv")
    )
    changed = tmp_path / "nodes.csv"
    changed.write_text(
        (EXAMPLES / "nodes.csv").read_text().replace("Boston Back Bay", "Boston Copley")
    )
    call_command("import_legacy", "--mapping", "generic_nodes_csv", "--input", str(changed))
    job = ImportJob.objects.order_by("-pk").first()
    assert job.report["error_counts"] == {"changed_in_source": 1}
    assert Node.objects.get(code="store-bos").name == "Boston Back Bay"
    call_command(
        "import_legacy",
        "--mapping",
        "generic_nodes_csv",
        "--input",
        str(changed),
        "--update-changed",
    )
    job = ImportJob.objects.order_by("-pk").first()
    assert (job.report["updated"], job.report["unchanged"]) == (1, 1)
    assert Node.objects.get(code="store-bos").name == "Boston Copley"


def test_a_bad_mapping_is_refused_with_its_lines(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: bad\nsource: x\nkind: nodes\nformat: {type: csv}\nfields:\n  code: c\n"
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_legacy", "--mapping", str(bad), "--input", str(EXAMPLES / "nodes.csv"))
    assert "line 6: fields: nodes need the field 'name'" in str(caught.value)
    assert ImportJob.objects.count() == 0


def test_a_dry_run_started_for_the_admin_is_refused_without_a_file_and_scheduled_with_one(
    tmp_path, django_capture_on_commit_callbacks
):
    from migration.services.jobs import InputNotFound, start_dry_run

    with pytest.raises(InputNotFound):
        start_dry_run(
            mapping_path=MAPPINGS_DIR / "generic_nodes_csv.yaml",
            input_path=tmp_path / "missing.csv",
            actor=ACTOR,
        )
    assert not ImportJob.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        job = start_dry_run(
            mapping_path=MAPPINGS_DIR / "generic_nodes_csv.yaml",
            input_path=EXAMPLES / "nodes.csv",
            actor=ACTOR,
        )
    assert (job.dry_run, job.status) == (True, "pending")
    assert len(callbacks) == 1  # the Celery job, sent after commit
