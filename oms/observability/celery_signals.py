"""Task latency and outcomes from Celery's task signals (infrastructure signals, not domain
events): task_prerun starts a clock keyed by task id, task_postrun stops it."""

import time
from typing import Any

from celery import signals

from oms.observability.metrics import TASK_LATENCY, TASKS

_started: dict[str, float] = {}


def _name(task: Any, sender: Any = None) -> str:
    return getattr(task, "name", None) or getattr(sender, "name", None) or "unknown"


def on_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


def on_postrun(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    started = _started.pop(task_id, None) if task_id else None
    name = _name(task)
    if started is not None:
        TASK_LATENCY.labels(name).observe(time.perf_counter() - started)
    if state == "SUCCESS":
        TASKS.labels(name, "success").inc()
    elif state == "RETRY":
        TASKS.labels(name, "retry").inc()


def on_failure(sender: Any = None, **_: Any) -> None:
    TASKS.labels(_name(sender), "failure").inc()


def connect() -> None:
    signals.task_prerun.connect(on_prerun, weak=False, dispatch_uid="oms-metrics-prerun")
    signals.task_postrun.connect(on_postrun, weak=False, dispatch_uid="oms-metrics-postrun")
    signals.task_failure.connect(on_failure, weak=False, dispatch_uid="oms-metrics-failure")
