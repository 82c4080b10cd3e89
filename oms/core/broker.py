"""kombu's Redis transport with one redis.Redis client per channel and pool instead of one per
command, and acknowledgements that free their prefetch slot even when Redis does not answer.

kombu.transport.redis builds a new redis.Redis object for every publish and every ack
(`Channel.conn_or_acquire`), and building one fills a table of about 170 response callbacks: a
fifth of a millisecond of CPU per message on each side (the web process that publishes
`orchestrate_order_task` on commit, the worker that acks it). A redis.Redis client takes a
connection from its pool per command and is safe to share, so the channel keeps one and makes a
new one only when its pool was replaced (after a fork or a reconnect, kombu drops the pool).
The asynchronous client the worker polls with (BRPOP) is kombu's own, unchanged.

The hottest commands go further (Channel.held_connection): the web process's orchestration
message (Channel.publish_plain, oms/core/transactions.py) and the worker's bookkeeping of each
delivery and ack (QoS.append, QoS.ack) run on one connection the channel keeps out of its pool.
A redis.Redis command takes a connection from the pool, checks it has nothing unread (a select()
call), runs in retry and observability wrappers and gives the connection back: 115 µs of CPU
for an LPUSH against 47 µs on the held connection, and 190 against 100 µs for a delivery's
MULTI/ZADD/HSET/EXEC. The commands and their replies are the same; errors are redis-py's.

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

from time import time
from typing import Any, cast

from kombu.transport import redis, virtual
from kombu.utils.json import dumps
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError


class QoS(redis.QoS):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Delivery tags acked while Redis did not answer: still in its unacked index.
        self.acks_not_sent: set[str] = set()

    def append(self, message: Any, delivery_tag: str) -> None:
        """kombu's: the delivered message into the unacked index and hash (in one MULTI/EXEC,
        as kombu's pipeline sends them), then counted as in hand; on the channel's held
        connection (Channel.held_connection) instead of a pipeline of the pool's, which cost
        twice the CPU (190 against 100 µs a message)."""
        if _own(self.channel).global_keyprefix:  # keys kombu's client prefixes: kombu's pipeline
            super().append(message, delivery_tag)
            return
        delivery = message.delivery_info
        payload = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        _own(self.channel).held_connection().transaction(
            ("ZADD", self.unacked_index_key, time(), delivery_tag),
            ("HSET", self.unacked_key, delivery_tag, payload),
        )
        virtual.QoS.append(self, message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        tags = [*self.acks_not_sent, delivery_tag]
        try:
            if _own(self.channel).global_keyprefix:  # as in append
                with self.pipe_or_acquire() as pipe:
                    pipe.zrem(self.unacked_index_key, *tags).hdel(self.unacked_key, *tags)
                    pipe.execute()
            else:
                _own(self.channel).held_connection().transaction(
                    ("ZREM", self.unacked_index_key, *tags), ("HDEL", self.unacked_key, *tags)
                )
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
        expires = self._expires  # type: ignore[attr-defined]  # kombu's stubs lack it
        # Queues with x-expires, and keys under a global prefix (kombu's client adds it; the
        # held connection would not): kombu's own _put.
        if (expires and routing_key in expires) or self.global_keyprefix:
            self._put(routing_key, message)
            return
        priority = self._get_message_priority(message, reverse=False)
        key = self._q_for_pri(routing_key, priority)  # type: ignore[attr-defined]  # as above
        self.held_connection().command("LPUSH", key, dumps(message))

    def held_connection(self) -> "_HeldConnection":
        """This channel's own connection for its commands (a publish, a delivery's and an
        ack's bookkeeping): made by its pool, with the pool's settings (database, timeouts),
        and kept out of it. A new one after the pool was replaced (a reconnection)."""
        if self.connection.client is None:
            # The transport was closed (a late ack on the old channel after the broker was
            # lost): kombu's pool would raise AttributeError, see _create_client.
            raise RedisConnectionError("the broker connection is closed")
        connection = self._held_connection
        if connection is None or connection.pool is not self.pool:
            if connection is not None:
                connection.disconnect()
            connection = self._held_connection = _HeldConnection(self.pool)
        return connection

    def close(self) -> None:
        try:
            super().close()  # may still take a delivery (its bookkeeping on the held connection)
        finally:
            held, self._held_connection = self._held_connection, None
            if held is not None:
                held.disconnect()

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


def _own(channel: Any) -> "Channel":
    """The QoS's channel, which is this module's Channel (the transport makes no other)."""
    return cast("Channel", channel)


class _HeldConnection:
    """One connection made by a channel's pool and kept out of it (Channel.held_connection).
    Errors are redis-py's (ConnectionError, TimeoutError, ResponseError), raised after the
    connection is closed: whatever was half sent or unread goes with it, and the next command
    connects again."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.connection = pool.make_connection()

    def _ready(self) -> Any:
        """The connection, checked as redis-py's pool checks one it hands out: connected, and
        nothing to read on it. Something to read on an idle connection is the server's end
        of it (closed by Redis's `timeout`, CLIENT KILL, a proxy's idle cut): connect again
        rather than send into it. A command written and lost there would be a delivery that
        is in neither the queue nor the unacked index."""
        connection = self.connection
        try:
            connection.connect()  # nothing when connected
            if not connection.can_read():
                return connection
        except (RedisConnectionError, OSError):
            pass
        connection.disconnect()
        connection.connect()
        return connection

    def command(self, *args: Any) -> Any:
        connection = self._ready()
        try:
            connection.send_command(*args)
            return connection.read_response()
        except BaseException:
            connection.disconnect()
            raise

    def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        """`commands` in one MULTI/EXEC, sent in one write (as redis-py's pipeline does)."""
        connection = self._ready()
        try:
            connection.send_packed_command(
                connection.pack_commands([("MULTI",), *commands, ("EXEC",)])
            )
            for _ in range(len(commands) + 1):  # OK, then QUEUED for each command
                connection.read_response()
            results = connection.read_response()
        except BaseException:
            connection.disconnect()
            raise
        if results is None:
            raise ResponseError("the transaction was discarded (EXEC returned nil)")
        for result in results:
            if isinstance(result, ResponseError):
                raise result
        return list(results)

    def disconnect(self) -> None:
        self.connection.disconnect()


class Transport(redis.Transport):
    Channel = Channel
