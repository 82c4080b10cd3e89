"""Helpers that enforce the transaction rules of docs/architecture.md."""

import logging
import os
import threading
from contextlib import suppress
from typing import Any

from celery import signals
from celery.app.task import Task
from celery.utils import uuid
from celery.utils.saferepr import saferepr
from django.conf import settings as django_settings
from django.db import InterfaceError, OperationalError, connection, transaction
from kombu import serialization
from kombu.entity import maybe_delivery_mode
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
        self.task = task
        self.func = task.delay
        self.args = args
        self.name = str(getattr(task, "name", task))

    def __call__(self) -> None:
        try:
            if not send_by_template(self.task, self.args):
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


# --- Publishing by template -------------------------------------------------------------------
#
# `task.delay()` costs about 0.6 ms of CPU in the web process (bench/capture_profile.py): Celery
# merges the task's options, routes it, builds the message headers, acquires a producer and
# wraps the publish in its retry machinery, for a message that differs from the last one of the
# same task only by its id and arguments. So the first send of a task in a thread goes through
# Celery as usual, with a producer that writes down what Celery hands to kombu's
# `Producer.publish`; later sends reuse that record with a new task id and arguments and call
# `Producer.publish` directly. The message on the wire is the one Celery would send (the same
# headers, properties, routing and serializer; the before/after_task_publish signals still fire,
# so the correlation id header is added as before): the worker cannot tell them apart
# (tests/orders/test_publish_by_template.py compares them).
#
# Failure semantics (docs/adr/0020-publish-by-template.md): a send by template is one try. If the
# broker refuses it (connection refused or reset: Redis restarting), Celery's own send runs
# next, with its retry policy and reconnection, exactly as before. If the broker does not
# answer in time (paused, partitioned), that is reported as a broker error like Celery's
# exhausted retries were: enqueue_on_commit logs it and the sweeper sends the work again;
# trying again would only hold the request longer against a broker that is not answering.

_CORRELATION_HEADER = "oms_correlation_id"  # added by oms/core/task_context.py on every send
_PER_MESSAGE_HEADERS = frozenset({"id", "root_id", "argsrepr", "kwargsrepr", _CORRELATION_HEADER})
_PUBLISH_ARGUMENTS = frozenset(
    {
        "routing_key",
        "delivery_mode",
        "mandatory",
        "immediate",
        "priority",
        "content_type",
        "content_encoding",
        "serializer",
        "compression",
        "exchange",
        "retry",
        "retry_policy",
        "declare",
        "expiration",
        "timeout",
        "confirm_timeout",
    }
)
# A message the template may stand for: no ETA, expiry, parent task, group or shadow name, a
# first try, its own root.
_PLAIN_HEADERS = {"eta": None, "expires": None, "parent_id": None, "group": None, "shadow": None}
_TIMEOUTS: tuple[type[BaseException], ...] = (RedisTimeoutError, TimeoutError)

_templates = threading.local()


class _RecordingProducer:
    """A kombu Producer for one ordinary `apply_async`: publishes as the producer it wraps does,
    and keeps the body and keyword arguments Celery passed to `publish`."""

    def __init__(self, producer: Any) -> None:
        self._producer = producer
        self.body: Any = None
        self.kwargs: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._producer, name)

    def publish(self, body: Any, **kwargs: Any) -> Any:
        self.body = body
        self.kwargs = {**kwargs, "headers": dict(kwargs.get("headers") or {})}
        return self._producer.publish(body, **kwargs)


class _Template:
    """How Celery publishes one task in this thread, from a recorded send."""

    def __init__(self, task: Any, body: Any, kwargs: dict[str, Any]) -> None:
        kwargs = dict(kwargs)
        self.headers = {
            key: value
            for key, value in kwargs.pop("headers").items()
            if key not in _PER_MESSAGE_HEADERS
        }
        self.embed = body[2]
        self.properties = {k: kwargs.pop(k) for k in list(kwargs) if k not in _PUBLISH_ARGUMENTS}
        # One try (failures: send_by_template); the queue was declared by the recorded send,
        # and Celery's own send declares it again after a reconnection.
        self.publish_kwargs = {**kwargs, "retry": False, "declare": []}
        self.signal_kwargs = {
            "exchange": kwargs.get("exchange"),
            "routing_key": kwargs.get("routing_key"),
        }
        self.declare = kwargs.get("declare")
        self.retry_policy = kwargs.get("retry_policy")
        self.argsrepr_maxsize = task.app.amqp.argsrepr_maxsize
        self.kwargsrepr = saferepr({}, task.app.amqp.kwargsrepr_maxsize)
        self.maxlevels = task.app.conf.task_repr_maxlevels
        # A message to the anonymous exchange (the routing key is the queue: Celery's default
        # queue) with no compression, expiry or priority: the channel can write it itself
        # (oms/core/broker.py, Channel.publish_plain) instead of kombu's Producer.publish.
        self.routing_key = kwargs.get("routing_key")
        self.serializer = kwargs.get("serializer")
        self.delivery_mode = maybe_delivery_mode(kwargs.get("delivery_mode"))
        self.plain = (
            kwargs.get("exchange") == ""
            and isinstance(self.routing_key, str)
            and self.delivery_mode is not None
            and not any(kwargs.get(k) for k in ("compression", "expiration", "priority"))
            and not any(kwargs.get(k) for k in ("content_type", "mandatory", "immediate"))
        )

    @staticmethod
    def from_recording(task: Any, recorder: _RecordingProducer) -> "_Template | None":
        body, kwargs = recorder.body, recorder.kwargs
        if kwargs is None or not isinstance(body, tuple) or len(body) != 3 or body[1]:
            return None
        headers = kwargs["headers"]
        plain = (
            all(key in headers and headers[key] is None for key in _PLAIN_HEADERS)
            and headers.get("retries") == 0
            and headers.get("id") is not None
            and headers.get("root_id") == headers["id"] == kwargs.get("correlation_id")
            and headers.get("kwargsrepr") == saferepr({}, task.app.amqp.kwargsrepr_maxsize)
        )
        return _Template(task, body, kwargs) if plain else None

    def publish(self, producer: Any, name: str, args: tuple[Any, ...]) -> None:
        task_id = uuid()
        headers = {
            **self.headers,
            "id": task_id,
            "root_id": task_id,
            "argsrepr": _argsrepr(args, self.argsrepr_maxsize, self.maxlevels),
            "kwargsrepr": self.kwargsrepr,
        }
        properties = {**self.properties, "correlation_id": task_id}
        body: tuple[tuple[Any, ...], dict[str, Any], Any] = (args, {}, self.embed)
        if signals.before_task_publish.receivers:
            signals.before_task_publish.send(
                sender=name,
                body=body,
                declare=self.declare,
                headers=headers,
                properties=properties,
                retry_policy=self.retry_policy,
                **self.signal_kwargs,
            )
        publish_plain = getattr(producer.channel, "publish_plain", None) if self.plain else None
        if publish_plain is None:
            producer.publish(body, headers=headers, **self.publish_kwargs, **properties)
        else:
            content_type, encoding, data = serialization.dumps(body, self.serializer)
            properties["delivery_mode"] = self.delivery_mode
            publish_plain(data, content_type, encoding, headers, properties, self.routing_key)
        if signals.after_task_publish.receivers:
            signals.after_task_publish.send(
                sender=name, body=body, headers=headers, **self.signal_kwargs
            )


def _argsrepr(args: tuple[Any, ...], maxsize: int, maxlevels: int) -> str:
    """Celery's `argsrepr` header: saferepr, which for a few integers (an id) is repr."""
    if len(args) <= 4 and all(type(arg) is int for arg in args):
        text = repr(args)
        if len(text) < maxsize:
            return text
    return saferepr(args, maxsize, maxlevels=maxlevels)


def _sends_plainly(task: Any, routing: "_Routing") -> bool:
    """A Celery task sent the ordinary way: to a broker (not eager), with Celery's own
    apply_async, from outside a task (whose sends carry their parent's ids)."""
    return (
        isinstance(task, Task)
        and type(task).apply_async is Task.apply_async
        and not routing.eager
        and task.app.current_worker_task is None
    )


class _Routing:
    """What of the Celery configuration decides how a task is sent: eager or not, and the
    routing (the default queue, the routes and queues tables).

    Celery's configuration is a chain of maps that ends in Django's settings; each read tries
    several spellings of the key in each map (45 µs a read, four per send: more than the
    LPUSH itself). So the reads are kept, per thread, until the configuration may have
    changed: another app or Django settings object (override_settings replaces it), a key
    added to `app.conf` (its `changes` map: tests point the default queue at their own
    worker), or a new value for one of the four keys there or in Django's settings. Not seen:
    a second change of a key already in `changes` under another spelling of its name."""

    __slots__ = ("app_conf", "eager", "key", "settings", "values")

    def __init__(self, conf: Any, settings: Any, values: tuple[Any, ...]) -> None:
        # The objects themselves, not their ids (kept alive here, none can be mistaken for a
        # later one at the same address).
        self.app_conf, self.settings, self.values = conf, settings, values
        self.eager = bool(conf.task_always_eager)
        self.key = (conf.task_default_queue, id(conf.task_routes), id(conf.task_queues))

    def holds_for(self, conf: Any, settings: Any, values: tuple[Any, ...]) -> bool:
        return self.app_conf is conf and self.settings is settings and self.values == values

    @staticmethod
    def values_of(conf: Any, settings: Any) -> tuple[Any, ...]:
        changes = conf.changes
        return (
            len(changes),
            *(changes.get(name, _UNSET) for name in _ROUTING_SETTINGS),
            *(getattr(settings, name, _UNSET) for name in _DJANGO_ROUTING_SETTINGS),
        )


_UNSET = object()
_ROUTING_SETTINGS = ("task_always_eager", "task_default_queue", "task_routes", "task_queues")
_DJANGO_ROUTING_SETTINGS = tuple(f"CELERY_{name.upper()}" for name in _ROUTING_SETTINGS)


def _routing_of(task: Any) -> _Routing | None:
    app = getattr(task, "app", None)
    if app is None:
        return None
    conf = app.conf
    settings = object.__getattribute__(django_settings, "_wrapped")
    values = _Routing.values_of(conf, settings)
    routing: _Routing | None = _templates.__dict__.get("routing")
    if routing is None or not routing.holds_for(conf, settings, values):
        routing = _templates.__dict__["routing"] = _Routing(conf, settings, values)
    return routing


def send_by_template(task: Any, args: tuple[Any, ...]) -> bool:
    """Send `task` with `args` as `task.delay(*args)` would, cheaply (see above). False when this
    send is not for a template (not a plain send, or the broker refused it): the caller then
    calls `task.delay`. A broker that does not answer in time raises, as delay's retries would
    once spent."""
    task = getattr(task, "_get_current_object", lambda: task)()  # shared_task's Proxy
    state = _templates.__dict__
    if state.get("pid") != os.getpid():  # a forked child: nothing of the parent's connection
        state.clear()
        state["pid"], state["by_task"] = os.getpid(), {}
    routing = _routing_of(task)
    if routing is None or not _sends_plainly(task, routing):
        return False
    templates: dict[tuple[Any, ...], _Template | None] = state["by_task"]
    name = task.name
    # A template stands for one task under one routing configuration.
    key = (name, *routing.key)
    if key not in templates:
        with task.app.producer_or_acquire() as producer:
            recorder = _RecordingProducer(producer)
            task.apply_async(args, producer=recorder)
        templates[key] = _Template.from_recording(task, recorder)
        return True
    template = templates[key]
    if template is None:
        return False
    producer = state.get("producer")
    if producer is None:
        # This thread's own producer and connection (connected on first use), kept: not one
        # of the pool's, so a thread holding it never starves Celery's own sends.
        producer = state["producer"] = task.app.amqp.Producer(task.app.connection_for_write())
    try:
        template.publish(producer, name, args)
    except BaseException as exc:
        state.pop("producer", None)
        with suppress(Exception):
            producer.connection.release()
        if isinstance(exc, _TIMEOUTS) or not isinstance(exc, BROKER_ERRORS):
            raise
        return False  # refused: Celery's own send, with its retries and reconnection
    return True
