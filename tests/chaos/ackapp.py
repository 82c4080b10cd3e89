"""The production Celery app (oms/celery.py: late acks, a prefetch of one per process, the Redis
transport of oms/core/broker.py and its socket timeouts) with two tasks of its own, for
tests/chaos/test_ack_timeouts.py. A worker runs it as `celery -A tests.chaos.ackapp worker`;
`python -m tests.chaos.ackapp hold <folder> <seconds> <n>` and `... touch <path>` send to it.

    hold <folder> <seconds>   writes <folder>/<task id>, then sleeps: a task still running
                              when the broker is paused, which acks once it is over
    touch <path>              writes <path>: the worker read the queue
"""

import sys
import time
from pathlib import Path
from typing import Any

from oms.celery import app

__all__ = ["app"]


@app.task(name="chaos.hold", bind=True)
def hold(self: Any, folder: str, seconds: float) -> None:
    (Path(folder) / str(self.request.id)).touch()
    time.sleep(seconds)


@app.task(name="chaos.touch")
def touch(path: str) -> None:
    Path(path).touch()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "hold":
        folder, seconds, n = args
        for _ in range(int(n)):
            hold.delay(folder, float(seconds))
    elif command == "touch":
        touch.delay(args[0])
    else:
        raise SystemExit(f"unknown command {command!r}")
