"""Sample legacy import jobs for the demo: dry runs of the documented CSV examples
(migration/examples/), so Migration › Import jobs shows a clean report (the locations, from which
a real run can start) and one with refusals (orders whose SKUs and nodes the demo does not have).
Created once: a job already made by the demo is left as it is."""

from pathlib import Path

from migration.models import ImportJob
from migration.services.jobs import MAPPINGS_DIR, create_job, execute_job
from oms.core.actors import Actor

EXAMPLES = Path("migration") / "examples"
SAMPLES = (("generic_nodes_csv", "nodes.csv"), ("generic_orders_csv", "orders.csv"))
DEMO_ACTOR = Actor.system("seed_demo")


def create_sample_import_jobs() -> int:
    """Dry runs only: nothing but the jobs and their reports is written. Returns how many."""
    made = 0
    for mapping, example in SAMPLES:
        if ImportJob.objects.filter(created_by=DEMO_ACTOR.label, mapping_name=mapping).exists():
            continue
        job = create_job(
            mapping_path=MAPPINGS_DIR / f"{mapping}.yaml",
            input_path=EXAMPLES / example,
            dry_run=True,
            actor=DEMO_ACTOR,
        )
        execute_job(job_id=job.pk, actor=DEMO_ACTOR)
        made += 1
    return made
