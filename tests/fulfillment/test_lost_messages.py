"""What keeps an order moving when a message is lost or the database goes away for a moment
(tests/chaos/test_faults.py proves it on real servers):

- a message the broker refuses at commit is logged, not raised: the order is committed and its
  caller gets its answer; the sweeper sends the message again;
- the sweeper re-sends lost work after OMS_SWEEP_GRACE_SECONDS, but the same item only once per
  cooldown (docs/adr/0009-sweeper-grace.md);
- a task that loses its database is retried, not failed.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from fulfillment import tasks
from fulfillment.services import sweeper
from fulfillment.tasks import orchestrate_order_task, sweep_due_work_task
from oms.core.transactions import enqueue_on_commit
from orders.models import Order, OrderStatus
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cooldowns():
    cache.clear()
    yield
    cache.clear()


class _Recorder:
    name = "recorder"

    def __init__(self, error: BaseException | None = None) -> None:
        self.calls: list[tuple] = []
        self.error = error

    def delay(self, *args):
        self.calls.append(args)
        if self.error is not None:
            raise self.error


def test_a_message_the_broker_refuses_at_commit_is_logged_not_raised(
    django_capture_on_commit_callbacks, caplog
):
    task = _Recorder(BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused."))

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(task, 42)

    assert task.calls == [(42,)]
    assert "the sweeper will send it again" in caplog.text


def test_any_other_error_of_a_task_sent_at_commit_still_raises(django_capture_on_commit_callbacks):
    task = _Recorder(ValueError("a bug"))

    with (
        pytest.raises(ValueError, match="a bug"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_on_commit(task, 42)


def test_the_grace_is_under_thirty_seconds_with_the_sweep_interval():
    from oms.celery import app

    interval = app.conf.beat_schedule["sweep-due-work"]["schedule"]
    assert sweeper.GRACE + timedelta(seconds=interval) < timedelta(seconds=30)


def test_the_sweeper_resends_an_item_once_per_cooldown(monkeypatch):
    # given: an order whose orchestration message was lost, older than the grace
    ProductFactory(sku="TEE")
    order = captured_order(skus=["TEE"])
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    sent = _Recorder()
    monkeypatch.setattr(tasks, "orchestrate_order_task", sent)

    # when: three sweeps, the re-sent message lost again each time
    first = sweep_due_work_task()
    second = sweep_due_work_task()
    cache.clear()  # the cooldown has passed (or Redis restarted)
    third = sweep_due_work_task()

    # then
    assert (first["orchestrate"], second["orchestrate"], third["orchestrate"]) == (1, 0, 1)
    assert sent.calls == [(order.pk, "sweeper"), (order.pk, "sweeper")]


def test_without_the_cache_the_sweeper_sends_anyway(monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    ProductFactory(sku="TEE")
    order = captured_order(skus=["TEE"])
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    sent = _Recorder()
    monkeypatch.setattr(tasks, "orchestrate_order_task", sent)

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(tasks.cache, "add", unreachable)

    assert sweep_due_work_task()["orchestrate"] == 1
    assert sent.calls == [(order.pk, "sweeper")]


def test_a_task_that_loses_its_database_is_retried_not_failed(
    django_capture_on_commit_callbacks, monkeypatch
):
    # given: the first attempt finds the database gone (Celery runs the retry inline here)
    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(skus=["TEE"])
    real = tasks.orchestrate_order_for_release
    attempts = []

    def flaky(**kwargs):
        attempts.append(kwargs)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(tasks, "orchestrate_order_for_release", flaky)

    # when: run as a worker runs it (a retry is a new message; inline here)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order_task.apply(args=(order.pk,), throw=False)

    # then
    assert len(attempts) == 2
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RELEASED
