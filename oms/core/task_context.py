"""Carry the correlation id from the code that publishes a task into the worker that runs it,
and keep a worker's database connection between tasks as a web process keeps it between
requests.

These are Celery's own hooks (infrastructure), not domain signals: the id travels as a message
header and is restored around the task body.
"""

from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.db import close_old_connections

from oms.core.correlation import _current, get_correlation_id, new_correlation_id

_HEADER = "oms_correlation_id"
_tokens: dict[str, Any] = {}


@before_task_publish.connect
def _attach_correlation_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and get_correlation_id():
        headers[_HEADER] = get_correlation_id()


@task_prerun.connect
def _restore_correlation_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    incoming = getattr(getattr(task, "request", None), _HEADER, None) if task else None
    if task_id:
        _tokens[task_id] = _current.set(incoming or get_correlation_id() or new_correlation_id())


@task_postrun.connect
def _clear_correlation_id(task_id: str | None = None, **_: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        _current.reset(token)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: Any = None, **_: Any) -> None:
    """What Django does at the start and end of every request (request_started/finished), for
    tasks run by a worker: close a connection that is past DB_CONN_MAX_AGE, fails its health
    check or was left unusable by an error, and keep the rest (ADR 0023). Celery's Django
    fix-up would close every connection instead (oms/celery.py, CELERY_DB_REUSE_MAX). An eager
    task runs inside its caller's request or transaction, whose connection is not the task's
    to close."""
    if not getattr(getattr(task, "request", None), "is_eager", False):
        close_old_connections()
