"""kombu's Redis transport with one redis.Redis client per channel and pool instead of one per
command.

kombu.transport.redis builds a new redis.Redis object for every publish and every ack
(`Channel.conn_or_acquire`), and building one fills a table of about 170 response callbacks: a
fifth of a millisecond of CPU per message on each side (the web process that publishes
`orchestrate_order_task` on commit, the worker that acks it). A redis.Redis client takes a
connection from its pool per command and is safe to share, so the channel keeps one and makes a
new one only when its pool was replaced (after a fork or a reconnect, kombu drops the pool).
The asynchronous client the worker polls with (BRPOP) is kombu's own, unchanged.

Used when the broker is Redis (oms/settings.py, CELERY_BROKER_TRANSPORT).
"""

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _reused_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # kombu has no stubs for it
        client = self._reused_client
        if client is None or client.connection_pool is not self.pool:
            client = self._reused_client = super()._create_client()  # type: ignore[misc]  # as above
        return client


class Transport(redis.Transport):
    Channel = Channel
