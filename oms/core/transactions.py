"""Helpers that enforce the transaction rules of docs/architecture.md."""

import logging
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What publishing raises when Redis, the broker, is down or does not answer in time: kombu
# wraps connection errors once its publish retries are spent; a timeout may surface raw.
# What a query raises when the database is gone (restart, failover, dropped connection); Celery
# tasks retry on these (oms/celery.py) and the API answers 503 (oms/api/errors.py).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)

BROKER_ERRORS: tuple[type[BaseException], ...] = (BrokerOperationalError, RedisError, OSError)


def require_atomic(what: str) -> None:
    """Refuse to run `what` outside a transaction (locks and events are meaningless there)."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{what} must run inside transaction.atomic()")


class _SendOnCommit:
    """The on-commit callback of enqueue_on_commit: `task.delay(*args)`, with a broker error
    logged instead of raised. Like functools.partial it shows `func` (the task's `delay`) and
    `args`, so what was scheduled can be read (tests do)."""

    def __init__(self, task: Any, args: tuple[Any, ...]) -> None:
        self.func = task.delay
        self.args = args
        self.name = str(getattr(task, "name", task))

    def __call__(self) -> None:
        try:
            self.func(*self.args)
        except BROKER_ERRORS as exc:
            logger.warning(
                "task not sent: the broker is unavailable; the sweeper will send it again",
                extra={"task": self.name, "task_args": list(self.args), "error": repr(exc)},
            )


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """After commit, send `task` with `args` to the broker; if the broker cannot take it (down,
    restarting, paused past its socket timeout), log it and go on.

    The work is already committed and its task is one the sweeper re-derives from the database
    (fulfillment/services/sweeper.py), so a lost message costs a short delay, whereas raising
    here would turn a committed request into an error for its caller (docs/adr/0009)."""
    transaction.on_commit(_SendOnCommit(task, args))
