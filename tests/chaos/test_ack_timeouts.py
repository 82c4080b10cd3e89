"""A worker whose every process finished a task while Redis was not answering reads the queue
again once Redis is back (oms/core/broker.py, QoS).

With late acks and a prefetch of one per process, a worker of concurrency 2 holds at most two
messages. Both tasks here end while Redis is paused (SIGSTOP), so both acks time out ("Couldn't
ack ... TimeoutError"). kombu's Redis QoS then kept both messages counted as in hand, and the
worker never asked Redis for another message: under load, the broker-paused fault of
test_faults.py left 88 of 120 orders `created` (nothing orchestrated, no sweep ran). Now the
worker takes the next message once Redis answers, and the acks Redis missed are sent with the
next one (no redelivery after the visibility timeout). It failed before the fix: the task sent
after the pause was never run.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_py

from tests.chaos.harness import ROOT, Redis, app_env, celery_worker, wait_until

pytestmark = pytest.mark.chaos

HOLD_SECONDS = 4.0  # each task runs this long after it started; Redis is paused by then
APP = "tests.chaos.ackapp"


def _send(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", APP, *args], cwd=ROOT, env=env, check=True, timeout=120
    )


def test_worker_reads_the_queue_again_after_acks_redis_did_not_take(chaos_root: Path) -> None:
    folder = chaos_root / "ack-timeouts"
    started = folder / "started"
    started.mkdir(parents=True)
    broker = Redis(folder / "redis")
    broker.start()
    env = app_env(None, broker)
    # Without heartbeats: the worker's heartbeat, due every 2 s, blocks its event loop until
    # Redis answers again (it reconnects for as long as it takes), so whether an ack is tried
    # during the pause would depend on which comes first. Here both acks always are.
    worker = celery_worker(env, folder, "worker", APP, "--without-heartbeat")
    try:
        worker.start(ready=" ready.", timeout=90)
        _send(env, "hold", str(started), str(HOLD_SECONDS), "2")
        wait_until(lambda: len(os.listdir(started)) == 2, 60, "both tasks running")

        broker.pause()  # both tasks end, and ack, while Redis does not answer
        try:
            wait_until(
                lambda: worker.output().count("Couldn't ack") == 2,
                HOLD_SECONDS + 60,
                "both acks to time out",
            )
        finally:
            broker.resume()

        resumed = time.monotonic()
        marker = folder / "touched"
        _send(env, "touch", str(marker))
        wait_until(marker.exists, 60, "the worker to run a task sent after the pause")
        back = time.monotonic() - resumed
        print(f"\n[chaos] ack timeouts: a task sent after the pause ran {back:.1f} s after it")  # noqa: T201

        # The acks Redis missed went out with the touch task's: nothing left to redeliver.
        client = redis_py.Redis.from_url(broker.url)
        wait_until(lambda: client.zcard("unacked_index") == 0, 10, "no message left unacked")
        assert client.hlen("unacked") == 0
    finally:
        worker.kill9()
        broker.stop()
