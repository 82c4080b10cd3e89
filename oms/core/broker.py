"""kombu's Redis transport with one redis.Redis client per channel and pool instead of one per
command, and acknowledgements that free their prefetch slot even when Redis does not answer.

kombu.transport.redis builds a new redis.Redis object for every publish and every ack
(`Channel.conn_or_acquire`), and building one fills a table of about 170 response callbacks: a
fifth of a millisecond of CPU per message on each side (the web process that publishes
`orchestrate_order_task` on commit, the worker that acks it). A redis.Redis client takes a
connection from its pool per command and is safe to share, so the channel keeps one and makes a
new one only when its pool was replaced (after a fork or a reconnect, kombu drops the pool).
The asynchronous client the worker polls with (BRPOP) is kombu's own, unchanged.

Acknowledgements (QoS below): kombu's Redis QoS removes an acked message from the unacked
index in Redis first and from the channel's own count of messages in hand second, so an ack
that raises (Redis paused past the socket timeout, a connection reset) leaves the message
counted as in hand for good. With late acks and a prefetch of one per process, a worker whose
every process finished a task while Redis was not answering ("Couldn't ack ... TimeoutError")
never reads the queue again, even once Redis is back: no orchestration, no sweep
(tests/chaos/test_faults.py, test_ack_timeouts.py). Here the slot is freed either way, and an
ack Redis did not take is sent again with the next one; if none comes, the message stays in the
unacked index and Redis redelivers it after the visibility timeout (every task is idempotent).

Used when the broker is Redis (oms/settings.py, CELERY_BROKER_TRANSPORT).
"""

from typing import Any

from kombu.transport import redis, virtual
from kombu.utils.json import dumps
from redis.exceptions import ConnectionError as RedisConnectionError


class QoS(redis.QoS):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Delivery tags acked while Redis did not answer: still in its unacked index.
        self.acks_not_sent: set[str] = set()

    def ack(self, delivery_tag: str) -> None:
        tags = [*self.acks_not_sent, delivery_tag]
        try:
            with self.pipe_or_acquire() as pipe:
                pipe.zrem(self.unacked_index_key, *tags).hdel(self.unacked_key, *tags).execute()
        except BaseException:
            self.acks_not_sent.add(delivery_tag)
            raise  # Celery logs "Couldn't ack"
        else:
            self.acks_not_sent.clear()
        finally:
            virtual.QoS.ack(self, delivery_tag)  # the prefetch slot, freed either way

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if not requeue:
            self.ack(delivery_tag)
            return
        try:
            # Back to the queue's head; if Redis does not take it, the message stays in the
            # unacked index and comes back after the visibility timeout.
            self.restore_by_tag(delivery_tag, leftmost=True)
        finally:
            virtual.QoS.ack(self, delivery_tag)


class Channel(redis.Channel):
    QoS = QoS
    _reused_client: Any = None
    _held_connection: Any = None

    def publish_plain(
        self,
        body: bytes,
        content_type: str,
        content_encoding: str,
        headers: dict[str, Any],
        properties: dict[str, Any],
        routing_key: str,
    ) -> None:
        """Publish a serialized message on the anonymous exchange (`routing_key` is the queue)
        as kombu's `Producer.publish` ends up doing (`prepare_message`, `basic_publish`, `_put`:
        the same message, the same LPUSH), on a connection of this channel's pool that the
        channel keeps for it.

        A redis.Redis command takes a connection from the pool, checks it has nothing unread
        (a select() call), wraps the call in its retry and observability layers and gives the
        connection back: 115 µs of CPU for an LPUSH, against 47 µs on a connection held here
        and 17 µs on a bare socket (docs/performance.md, "The orchestration message"). Errors
        are redis-py's own (ConnectionError, TimeoutError), raised to the caller after the
        connection is closed; the next call connects again."""
        message = self.prepare_message(body, 0, content_type, content_encoding, headers, properties)
        self._inplace_augment_message(message, "", routing_key)
        if self._expires and routing_key in self._expires:  # queues with x-expires
            self._put(routing_key, message)
            return
        key = self._q_for_pri(routing_key, self._get_message_priority(message, reverse=False))
        connection = self._held_connection
        if connection is None or connection.pool is not self.pool:
            connection = self._held_connection = _HeldConnection(self.pool)
        connection.lpush(key, dumps(message))

    def close(self) -> None:
        held, self._held_connection = self._held_connection, None
        if held is not None:
            held.disconnect()
        super().close()

    def _create_client(self, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            # The transport was closed (the broker was lost and the worker is tearing the
            # connection down): kombu would build a new pool from connection details that are
            # gone and raise AttributeError, which no caller expects and which stops the
            # worker ("Unrecoverable error", tests/chaos/test_faults.py's Redis restart).
            # A connection error is what a lost broker raises: the closing code ignores it,
            # the worker reconnects, and unacked messages come back from Redis's unacked index.
            raise RedisConnectionError("the broker connection is closed")
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # kombu has no stubs for it
        client = self._reused_client
        if client is None or client.connection_pool is not self.pool:
            client = self._reused_client = super()._create_client()  # type: ignore[misc]  # as above
        return client


class _HeldConnection:
    """One connection made by a channel's pool and kept out of it, for publish_plain."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.connection = pool.make_connection()

    def lpush(self, key: str, payload: str) -> None:
        try:
            self.connection.send_command("LPUSH", key, payload)
            self.connection.read_response()
        except BaseException:
            self.connection.disconnect()  # whatever was half sent or unread goes with it
            raise

    def disconnect(self) -> None:
        self.connection.disconnect()


class Transport(redis.Transport):
    Channel = Channel
