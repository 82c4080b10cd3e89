"""Import jobs in the admin, in Chromium: the list with progress and errors, a dry run's report
with its errors and source lines, and starting the real run from a clean dry run. Screenshots
(1440×900) in test-artifacts/e2e/test_import_jobs/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from migration.models import ImportJob
from migration.services.jobs import MAPPINGS_DIR, create_job, execute_job
from oms.core.actors import Actor
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.factories.users import PASSWORD, superuser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "e2e" / "test_import_jobs"
EXAMPLES = ROOT / "migration" / "examples"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def dry_run(mapping: str, example: str) -> ImportJob:
    actor = Actor.system("e2e")
    job = create_job(
        mapping_path=MAPPINGS_DIR / f"{mapping}.yaml",
        input_path=EXAMPLES / example,
        dry_run=True,
        actor=actor,
    )
    execute_job(job_id=job.pk, actor=actor)
    return ImportJob.objects.get(pk=job.pk)


def test_dry_run_reports_and_the_real_run_starts_from_a_clean_one(live_server, monkeypatch):
    monkeypatch.setattr("migration.tasks.run_import_job_task.delay", lambda *a, **k: None)
    orders = dry_run("generic_orders_csv", "orders.csv")
    nodes = dry_run("generic_nodes_csv", "nodes.csv")
    superuser("migrator")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.goto(f"{live_server.url}/admin/login/?next=/admin/migration/importjob/")
            page.fill("input[name=username]", "migrator")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.get_by_text("generic_orders_csv")).to_be_visible()
            screenshot(page, SHOTS / "1-import-jobs.png")

            page.goto(f"{live_server.url}/admin/migration/importjob/{orders.pk}/change/")
            expect(page.get_by_text("unknown_sku").first).to_be_visible()
            expect(page.get_by_text("Dry run: nothing was written")).to_be_visible()
            page.get_by_text("errors by code").scroll_into_view_if_needed()
            screenshot(page, SHOTS / "2-dry-run-report.png")

            page.goto(f"{live_server.url}/admin/migration/importjob/")
            page.locator(f"input[name=_selected_action][value='{orders.pk}']").check()
            page.select_option("select[name=action]", "start_real_run")
            page.click("button[name=index]")
            expect(page.get_by_text("was not accepted")).to_be_visible()
            page.locator(f"input[name=_selected_action][value='{nodes.pk}']").check()
            page.select_option("select[name=action]", "start_real_run")
            page.click("button[name=index]")
            expect(page.get_by_text(f"started from dry run #{nodes.pk}")).to_be_visible()
            expect(page.get_by_text(f"real run (from dry run #{nodes.pk})")).to_be_visible()
            screenshot(page, SHOTS / "3-real-run-started.png")
        finally:
            browser.close()
    real = ImportJob.objects.get(dry_run_of=nodes)
    assert not real.dry_run
    assert real.status == "pending"
    assert not ImportJob.objects.filter(dry_run_of=orders).exists()
