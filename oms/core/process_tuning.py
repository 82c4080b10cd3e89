"""Long-running processes (gunicorn and Celery workers) freeze their start-up heap.

Django and its apps leave a few hundred thousand long-lived objects behind at start-up. Python's
oldest-generation collections walk all of them, pausing a request or task for 50-100 ms now and
then: routing's p99 went from 22 ms to 88 ms because of it (bench/routing_bench.py). gc.freeze()
moves everything alive at start-up into a permanent generation the collector skips (the Python
docs recommend it for pre-fork servers). Tables every request may need are built first, so
that none is built inside a request or task and they are frozen with the rest (the ZIP code
areas routing and availability locate addresses with).

The collector's first threshold is raised too (700 → 50,000 net allocations per young
collection). A route_order over 200 nodes allocates tens of thousands of container objects, so
at 700 every route_order paid several young collections and, every 20 to 50 orders, a full
collection of the unfrozen heap of 4-7 ms (bench/routing_profile.py prints both): on 1 to 3 %
of the orders, which is routing's p99. At 50,000 a collection comes a few times per thousand
orders, and the collector's CPU per 10-line route_order fell from 0.4-0.65 ms to 0.05-0.13 ms
(docs/performance.md, "route_order's tail"). The objects are the same, only collected later:
a cycle lives at most 50,000 allocations longer.
"""

import gc
from typing import Any

from celery.signals import worker_process_init

from oms.core.geo import preload_zip_areas

# (young, middle, old): a young collection every 50,000 net allocations, the middle
# generation every 20 young ones, the old one every 10 middle ones (and only when the objects
# waiting for it are a quarter of those already there: CPython's own rule).
GC_THRESHOLDS = (50_000, 20, 10)


def freeze_startup_heap() -> None:
    load_lazy_tables()
    preload_zip_areas()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def load_lazy_tables() -> None:
    """Build now, not in the first request or task of each process, what Django, Celery and
    oms build lazily on first use. A gunicorn worker's first capture took 290 ms of CPU (130 ms
    with bytecode compiled), its later ones 3-4 ms:
    - the URLconf and every view it names (Django resolves it on the first request): reading
      reverse_dict walks the whole tree, as reverse() would;
    - the Celery app's task registry and result backend (the first publish finalized the app,
      binding 56 tasks, and looked its backend up among the installed packages' entry points);
    - the ISO country list the capture validates addresses with (Babel's locale data);
    - Django's e-mail validator's expressions (compiled on first use: its domain pattern, with
      its Unicode ranges, took 65-72 ms of the first capture's CPU in every worker)."""
    from django.core.validators import validate_email
    from django.urls import get_resolver

    from oms.celery import app
    from oms.core.countries import iso_countries

    get_resolver().reverse_dict  # noqa: B018 (populates the resolver)
    app.finalize(auto=True)
    app.backend  # noqa: B018 (looked up once, then cached on the app)
    iso_countries()
    validate_email("warm.up@example.com")  # compiles the user and domain patterns


@worker_process_init.connect
def _freeze_in_celery_worker(**_: Any) -> None:
    freeze_startup_heap()
