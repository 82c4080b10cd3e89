"""An ack Redis did not take (oms/core/broker.py, QoS) frees the worker's prefetch slot: kombu's
Redis QoS kept such a message counted as in hand, and a worker whose every process acked while
Redis was paused never read the queue again (tests/chaos/test_ack_timeouts.py runs that worker).
The ack Redis missed is sent with the next one."""

import uuid
from contextlib import contextmanager

import pytest
import redis
from django.conf import settings
from kombu import Connection, Exchange, Queue
from redis.exceptions import TimeoutError as RedisTimeoutError

from oms.core.broker import QoS
from tests.servers import a_silent_server, hold_on


@pytest.fixture
def channel_and_queue():
    name = f"test-acks-{uuid.uuid4().hex[:8]}"
    options = {"unacked_key": f"{name}-unacked", "unacked_index_key": f"{name}-unacked-index"}
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    with Connection(
        settings.CELERY_BROKER_URL,
        transport="oms.core.broker:Transport",
        transport_options=options,
    ) as conn:
        queue = Queue(name, Exchange(name), routing_key=name)
        producer = conn.Producer()
        for n in range(3):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key=name, declare=[queue])
        channel = conn.channel()
        channel.basic_qos(0, 1, False)  # a prefetch of one, as a worker process has
        try:
            yield channel, queue(channel), client, options
        finally:
            client.delete(name, *options.values())


@contextmanager
def _transport_closed(channel):
    """`channel`'s transport as kombu's close leaves it (no client, the pools dropped), for the
    block."""
    transport = channel.connection
    saved, transport.client = transport.client, None
    channel._pool = None
    try:
        yield
    finally:
        transport.client = saved


def test_an_ack_redis_does_not_take_frees_the_slot_and_goes_out_with_the_next(channel_and_queue):
    channel, queue, client, keys = channel_and_queue
    assert isinstance(channel.qos, QoS)
    first = queue.get(no_ack=False)
    assert first.payload == {"n": 0}
    assert not channel.qos.can_consume()  # the one slot is taken

    # when: Redis does not answer the ack (paused past the socket timeout): the channel's held
    # connection goes to a server that takes the connection and never answers
    with a_silent_server() as port:
        hold_on(channel, redis.ConnectionPool(host="127.0.0.1", port=port, socket_timeout=0.5))
        with pytest.raises(RedisTimeoutError):
            first.ack()
    channel._held_connection = None  # Redis answers again: the next command connects anew

    # then: the slot is free (the next message can be taken), the first is still unacked in Redis
    assert channel.qos.can_consume()
    assert client.zcard(keys["unacked_index_key"]) == 1
    second = queue.get(no_ack=False)
    assert second.payload == {"n": 1}

    # when: the next ack is taken, then both are acked (nothing to redeliver after the
    # visibility timeout)
    second.ack()
    assert client.zcard(keys["unacked_index_key"]) == 0
    assert client.hlen(keys["unacked_key"]) == 0
    assert channel.qos.acks_not_sent == set()
    third = queue.get(no_ack=False)
    third.ack()
    assert third.payload == {"n": 2}


def test_a_requeue_redis_does_not_take_frees_the_slot_too(channel_and_queue):
    channel, queue, client, keys = channel_and_queue
    first = queue.get(no_ack=False)

    # when: Redis does not answer the requeue (kombu's restore, on the channel's pool): the pool
    # goes to a server that takes the connection and never answers
    kept = channel._pool
    with a_silent_server() as port:
        channel._pool = redis.ConnectionPool(host="127.0.0.1", port=port, socket_timeout=0.5)
        try:
            with pytest.raises(RedisTimeoutError):
                first.reject(requeue=True)
        finally:
            channel._pool.disconnect()
            channel._pool = kept

    # then: the slot is free; the message stays unacked in Redis (back after the visibility
    # timeout)
    assert channel.qos.can_consume()
    assert client.zcard(keys["unacked_index_key"]) == 1


def test_a_channel_of_a_closed_transport_raises_a_connection_error(channel_and_queue):
    """When Redis is lost, the worker closes its connection and a channel may still ask for a
    client (restoring unacked messages): kombu then built a pool from connection details that
    were gone and raised AttributeError, which stopped the worker (tests/chaos, Redis restart).
    A connection error is what the closing code ignores."""
    channel, _queue, _client, _keys = channel_and_queue
    with _transport_closed(channel), pytest.raises(redis.exceptions.ConnectionError):
        channel._create_client()


def test_a_delivered_message_is_kept_as_kombu_keeps_it_and_restored_from_there(
    channel_and_queue,
):
    # given: a message taken and not acked (its bookkeeping written on the held connection)
    channel, queue, client, keys = channel_and_queue
    first = queue.get(no_ack=False)
    tag = first.delivery_tag
    assert client.zscore(keys["unacked_index_key"], tag) is not None
    assert client.hexists(keys["unacked_key"], tag)

    # when: kombu restores what was in hand (a worker shutting down)
    channel.qos.restore_unacked()

    # then: the message is back in its queue, whole, and the bookkeeping is gone
    assert client.zcard(keys["unacked_index_key"]) == 0
    assert client.hlen(keys["unacked_key"]) == 0
    payloads = [queue.get(no_ack=True).payload for _ in range(3)]
    assert sorted(p["n"] for p in payloads) == [0, 1, 2]


def test_a_held_connection_the_server_closed_is_made_again_before_use(channel_and_queue):
    # given: the held connection idle, then closed by Redis (its `timeout`, CLIENT KILL)
    channel, queue, client, keys = channel_and_queue
    first = queue.get(no_ack=False)
    first.ack()
    held = channel.held_connection().connection
    held_id = held.send_command("CLIENT", "ID") or held.read_response()
    assert client.client_kill_filter(_id=held_id) == 1

    # when: the next delivery's bookkeeping and ack
    second = queue.get(no_ack=False)
    second.ack()

    # then: written on a new connection, nothing lost
    assert second.payload == {"n": 1}
    assert client.zcard(keys["unacked_index_key"]) == 0
    assert client.hlen(keys["unacked_key"]) == 0


def test_an_ack_on_a_channel_of_a_closed_transport_raises_a_connection_error(channel_and_queue):
    # the late ack of the old channel after the broker was lost (see the test above)
    channel, queue, _client, _keys = channel_and_queue
    message = queue.get(no_ack=False)
    with _transport_closed(channel), pytest.raises(redis.exceptions.ConnectionError):
        message.ack()
