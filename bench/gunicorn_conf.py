"""gunicorn hooks for the bench (settings are passed on the command line by bench/run.sh).

Each worker loads Django on its own (about 2 s on the bench machine), so /healthz answering 200
only proves that one worker is up. post_worker_init runs in each worker once the application is
loaded; it drops a file named after the worker's pid in $BENCH_READY_DIR, and run.sh waits for
one file per worker before it starts the load.
"""

import os
from pathlib import Path
from typing import Any


def post_worker_init(worker: Any) -> None:
    from oms.core.process_tuning import freeze_startup_heap

    freeze_startup_heap()  # as the production gunicorn.conf.py does
    ready_dir = os.environ.get("BENCH_READY_DIR")
    if ready_dir:
        (Path(ready_dir) / f"worker-{os.getpid()}").touch()
