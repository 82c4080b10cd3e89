"""enqueue_on_commit's send by template (oms/core/transactions.py): after the first, ordinary
send of a task, later sends build the same message from a record of it. On the real broker
(Redis), the messages must be the ones Celery sends, but for their ids; a refused send falls
back to Celery's own; a broker that does not answer is reported like an exhausted retry."""

import base64
import json
import uuid

import pytest
import redis
from django.conf import settings

from fulfillment.tasks import allocate_backorders_task, orchestrate_order_task
from oms.celery import app
from oms.core import transactions
from oms.core.correlation import _current
from oms.core.transactions import _SendOnCommit, enqueue_on_commit, send_by_template
from tests.servers import a_silent_server, closed_port, hold_on

# What differs between two messages of one task by design: the task id and the delivery tag.
_PER_MESSAGE = {"id", "root_id", "correlation_id", "delivery_tag"}


@pytest.fixture
def broker_queue():
    """A queue of its own on the test Redis, with tasks sent to the broker (not run eagerly)."""
    queue = f"test-template-{uuid.uuid4().hex[:8]}"
    saved = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        yield client, queue
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        client.delete(queue)
        transactions._templates.__dict__.clear()


def _messages(client, queue):
    """The queue's messages, oldest first, with the body decoded and the per-message ids out."""
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        message = json.loads(raw)
        message["body"] = json.loads(base64.b64decode(message["body"]))
        ids = {
            "id": message["headers"].pop("id"),
            "root_id": message["headers"].pop("root_id"),
            "correlation_id": message["properties"].pop("correlation_id"),
        }
        message["properties"].pop("delivery_tag")
        assert ids["id"] == ids["root_id"] == ids["correlation_id"]
        found.append((ids["id"], message))
    return found


@pytest.mark.parametrize(
    ("task", "args"),
    [
        (orchestrate_order_task, (42,)),
        (orchestrate_order_task, (42, "hold_released")),
        (allocate_backorders_task, ([3, 5, 8],)),
    ],
)
def test_a_send_by_template_is_the_message_celery_sends(broker_queue, task, args):
    client, queue = broker_queue
    token = _current.set("corr-template-1")
    try:
        # when: Celery's own send, then the first send (recorded) and two by template
        task.delay(*args)
        for _ in range(3):
            _SendOnCommit(task, args)()
    finally:
        _current.reset(token)

    # then: four messages that differ only by their ids
    messages = _messages(client, queue)
    assert len(messages) == 4
    ids = [task_id for task_id, _ in messages]
    assert len(set(ids)) == 4
    reference = messages[0][1]
    assert reference["headers"]["oms_correlation_id"] == "corr-template-1"
    assert reference["headers"]["task"] == task.name
    assert reference["properties"]["delivery_info"]["routing_key"] == queue
    for _, message in messages[1:]:
        assert message == reference
    # and the two sends by template were written by the channel itself (publish_plain)
    assert transactions._templates.__dict__["producer"].channel._held_connection is not None


def test_a_template_follows_the_default_queue(broker_queue):
    client, queue = broker_queue
    send = _SendOnCommit(orchestrate_order_task, (7,))
    send()
    send()
    other = f"{queue}-other"
    app.conf.task_default_queue = other
    try:
        send()
        send()
        assert len(_messages(client, other)) == 2
    finally:
        client.delete(other)
    assert len(_messages(client, queue)) == 2


def test_eager_tasks_and_stand_ins_are_not_sent_by_template(settings):
    class StandIn:
        name = "stand-in"

        def delay(self, *args):
            raise AssertionError("not called here")

    assert app.conf.task_always_eager  # the test settings
    assert send_by_template(orchestrate_order_task, (1,)) is False
    assert send_by_template(StandIn(), (1,)) is False


def _with_a_template_then(broker_queue, pool):
    """A template recorded (message [1] sent), then the thread's channel holding a connection
    of `pool` as its own: a broker gone or not answering, on real sockets."""
    client, queue = broker_queue
    _SendOnCommit(orchestrate_order_task, (1,))()  # records the template
    _SendOnCommit(orchestrate_order_task, (1,))()  # sends by it: the thread's channel is made
    client.lpop(queue)  # that second [1] (the newest) is not part of the test
    hold_on(transactions._templates.__dict__["producer"].channel, pool)
    return client, queue


def test_a_send_the_broker_refuses_is_sent_again_by_celery(broker_queue):
    # given: the template's connection is refused (Redis restarting)
    gone = redis.ConnectionPool(host="127.0.0.1", port=closed_port(), socket_connect_timeout=1)
    client, queue = _with_a_template_then(broker_queue, gone)

    # when
    _SendOnCommit(orchestrate_order_task, (2,))()

    # then: Celery's own send delivered it; the broken producer is dropped
    assert [m["body"][0] for _, m in _messages(client, queue)] == [[1], [2]]
    assert "producer" not in transactions._templates.__dict__
    _SendOnCommit(orchestrate_order_task, (3,))()  # a new producer, by template again
    assert [m["body"][0] for _, m in _messages(client, queue)] == [[1], [2], [3]]


def test_a_broker_that_does_not_answer_is_logged_for_the_sweeper(broker_queue, caplog):
    # given: the template's connection goes to a broker that never answers (Redis paused)
    with a_silent_server() as port:
        silent = redis.ConnectionPool(host="127.0.0.1", port=port, socket_timeout=0.5)
        client, queue = _with_a_template_then(broker_queue, silent)

        # when
        _SendOnCommit(orchestrate_order_task, (2,))()

    # then: not tried again (that would only hold the request longer; Celery's own send would
    # have put [2] on the real broker's queue): logged, as when Celery's retries are spent;
    # the sweeper sends the work again
    assert "the sweeper will send it again" in caplog.text
    assert [m["body"][0] for _, m in _messages(client, queue)] == [[1]]


@pytest.mark.django_db
def test_enqueue_on_commit_still_shows_the_task_and_args(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue_on_commit(orchestrate_order_task, 9)

    assert callbacks[0].func == orchestrate_order_task.delay
    assert callbacks[0].args == (9,)
