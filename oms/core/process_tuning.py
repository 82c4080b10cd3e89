"""Long-running processes (gunicorn and Celery workers) freeze their start-up heap.

Django and its apps leave a few hundred thousand long-lived objects behind at start-up. Python's
oldest-generation collections walk all of them, pausing a request or task for 50-100 ms now and
then: routing's p99 went from 22 ms to 88 ms because of it (bench/routing_bench.py). gc.freeze()
moves everything alive at start-up into a permanent generation the collector skips (the Python
docs recommend it for pre-fork servers). Tables every request may need are built first, so
that none is built inside a request or task and they are frozen with the rest (the ZIP code
areas routing and availability locate addresses with).
"""

import gc
from typing import Any

from celery.signals import worker_process_init

from oms.core.geo import preload_zip_areas


def freeze_startup_heap() -> None:
    preload_zip_areas()
    gc.collect()
    gc.freeze()


@worker_process_init.connect
def _freeze_in_celery_worker(**_: Any) -> None:
    freeze_startup_heap()
