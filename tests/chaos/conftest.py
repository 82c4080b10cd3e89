"""Fault tests run on servers of their own (tests/chaos/harness.py), never on the suite's
database: the suite's session fixture that creates the test database is replaced here by one
that builds a migrated PostgreSQL cluster once, which every test copies into its own cluster."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chaos.harness import (
    ROOT,
    Postgres,
    Process,
    Redis,
    app_env,
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
    manage,
    wait_until,
    world,
)
from tests.chaos.load import WebhookReceiver


@pytest.fixture(autouse=True, scope="session")
def _real_database() -> None:
    """Overrides tests/conftest.py's: these tests open no connection of their own."""


@pytest.fixture(scope="session")
def chaos_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="oms-chaos-"))
    root.chmod(0o755)  # the postgres user walks into it
    yield root
    if os.environ.get("OMS_CHAOS_KEEP") != "1":  # keep the servers' folders and logs to look at
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_cluster(chaos_root: Path) -> Postgres:
    """initdb, create the `oms` database, migrate it; stopped, ready to be copied."""
    started = time.monotonic()
    pg = Postgres(chaos_root / "template")
    pg.init()
    pg.start()
    redis = Redis(chaos_root / "template-redis")
    redis.start()
    try:
        pg.psql("CREATE DATABASE oms")
        manage(app_env(pg, redis), "migrate", "--no-input", "-v", "0")
    finally:
        redis.stop()
        pg.stop("fast")
    print(f"\n[chaos] migrated template cluster in {time.monotonic() - started:.1f} s")  # noqa: T201
    return pg


class Stack:
    """One test's world: its own PostgreSQL (a copy of the migrated template) and Redis, the
    webhook receiver, gunicorn (1 worker), a Celery worker (concurrency 2) and Celery beat,
    all on those servers, and the data of tests/chaos/world.py."""

    def __init__(self, folder: Path, template: Postgres, receiver: WebhookReceiver) -> None:
        self.folder = folder
        self.pg = Postgres(folder / "pg")
        self.pg.copy_from(template)
        self.redis = Redis(folder / "redis")
        self.receiver = receiver
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[Process] = []
        self._probe: subprocess.Popen[str] | None = None

    def start(self, n_orders: int, **env: str) -> None:
        self.pg.start()
        self.redis.start()
        self.env = app_env(self.pg, self.redis, **env)
        made = world(self.env, "setup", self.receiver.url, str(n_orders))
        self.key, self.receiver.secret, self.units = made["key"], made["secret"], made["units"]
        self.web = gunicorn(self.env, self.folder, self.port)
        self.worker = celery_worker(self.env, self.folder)
        self.beat = celery_beat(self.env, self.folder)
        self.processes = [self.web, self.worker, self.beat]
        self.web.start()
        self.worker.start(ready=" ready.")
        self.beat.start(ready="beat: Starting")
        wait_until(self._healthy, 60, "gunicorn to answer /healthz")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def report(self) -> dict:
        """The figures of tests/chaos/world.py, from one long-lived Django process."""
        if self._probe is None or self._probe.poll() is not None:
            self._probe = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "tests.chaos.world", "serve"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        assert self._probe.stdin is not None
        assert self._probe.stdout is not None
        self._probe.stdin.write("report\n")
        self._probe.stdin.flush()
        return json.loads(self._probe.stdout.readline())

    def logs(self, lines: int = 15) -> str:
        """The last lines of each process that are not routine (task received/succeeded,
        beat sending, access log)."""
        routine = ("succeeded in", '" received"', "Sending due task", '"POST /api/v1/orders/')
        parts = []
        for proc in self.processes:
            kept = [
                line
                for line in proc.output().splitlines()
                if not any(r in line for r in routine) and "] received" not in line
            ]
            tail = kept[-lines:]
            parts.append(f"--- {proc.name} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self) -> None:
        if self._probe is not None and self._probe.poll() is None:
            if self._probe.stdin is not None:
                self._probe.stdin.close()  # end of input: the probe exits
            self._probe.wait(timeout=10)
        for proc in reversed(self.processes):
            proc.kill9()  # nothing to keep: no graceful shutdown to wait for
        self.redis.stop()
        self.pg.stop("immediate")


@pytest.fixture
def stack(request, chaos_root: Path, migrated_cluster: Postgres) -> Iterator[Stack]:
    folder = chaos_root / request.node.name
    receiver = WebhookReceiver(delay=getattr(request, "param", {}).get("receiver_delay", 0.0))
    with receiver.running():
        built = Stack(folder, migrated_cluster, receiver)
        try:
            yield built
        finally:
            built.stop()
