"""Local stand-ins for a broker that is gone or does not answer: a port where nothing listens,
and a TCP server that takes connections and never replies (Redis paused by SIGSTOP, a
network partition). Real sockets, so the client's own errors and timeouts are what a test
sees. `hold_on` points a broker channel's held connection at one of them."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import redis

from oms.core.broker import _HeldConnection


def closed_port() -> int:
    """A local port nothing listens on (connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def a_silent_server() -> Iterator[int]:
    """A TCP server on a free local port that accepts connections and never answers; yields
    the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    taken: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with suppress(TimeoutError, OSError):
                taken.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in taken:
            conn.close()
        listener.close()


def hold_on(channel: Any, pool: redis.ConnectionPool) -> None:
    """Give a broker channel (oms/core/broker.py) a held connection made by `pool`, kept as
    the channel's own: its publishes and its acks' bookkeeping go to `pool`'s server until
    `channel._held_connection` is set to None."""
    held = _HeldConnection(pool)
    held.pool = channel.pool  # the channel makes no new one while its own pool is the same
    channel._held_connection = held
