"""A real Celery worker process on the real Redis broker and the test database.

Tests that depend on asynchronous behaviour use `celery_worker` (tests/conftest.py): the worker
runs `celery -A oms worker` in a subprocess against the same PostgreSQL test database (so those
tests must use `django_db(transaction=True)`: the worker only sees committed rows) and a queue
of its own, so nothing else on the machine's Redis is touched.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    def __init__(self, queue: str, extra_env: dict[str, str] | None = None) -> None:
        self.queue = queue
        self.extra_env = dict(extra_env or {})
        self.lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "OMS_ALLOW_INSECURE_KEY": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "oms",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                "--hostname",
                f"test-{self.queue}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(" ready.", timeout=90)  # a loaded 2-core machine takes 30 s and more

    def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self._proc is not None and self._proc.poll() is not None:
                break
            time.sleep(0.05)
        output = "\n".join(self.lines[-40:])
        raise AssertionError(f"worker never printed {text!r}; last output:\n{output}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


@contextmanager
def running_worker(extra_env: dict[str, str] | None = None) -> Iterator[WorkerProcess]:
    from oms.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    saved = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    worker = WorkerProcess(queue, extra_env)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager, app.conf.task_default_queue = saved


def wait_until(predicate: Callable[[], bool], timeout: float = 20, what: str = "") -> None:
    """Poll the database (or anything) until `predicate()` holds: work on a real worker
    finishes asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
