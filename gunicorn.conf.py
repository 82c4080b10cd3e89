"""gunicorn settings for production (docker-compose, Dockerfile). gunicorn loads this file from
the working directory by itself."""

from typing import Any

bind = "0.0.0.0:8000"
workers = 4
accesslog = "-"


def post_worker_init(worker: Any) -> None:
    # Skip Django's start-up heap in garbage collections (see oms/core/process_tuning.py).
    from oms.core.process_tuning import freeze_startup_heap

    freeze_startup_heap()
