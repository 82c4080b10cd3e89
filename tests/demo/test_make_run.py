"""`make run`'s own set-up, the way a newcomer runs it: a fresh SQLite file, no broker (Celery
eager: every task of the demo runs inline on commit, the simulated warehouse and carrier too),
`migrate` then `seed_demo`. The rest of the suite runs with a broker and no worker, so a task
that fails inline (a label the carrier refuses) is only seen here."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_make_run_migrates_and_seeds_the_embedded_demo(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "OMS_X12_INBOX_DIR": str(tmp_path / "x12-in"),
        "OMS_X12_OUTBOX_DIR": str(tmp_path / "x12-out"),
        "OMS_ERP_ENDPOINT": f"file:{tmp_path / 'erp'}",
    }

    migrated = _manage(env, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = _manage(env, "seed_demo", "--base-url", "http://127.0.0.1:8000")

    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "Placed 36 demo orders" in seeded.stdout
    assert "EDI channel edi-demo" in seeded.stdout
    assert "API key for demo storefront (channel web): oms_" in seeded.stdout
