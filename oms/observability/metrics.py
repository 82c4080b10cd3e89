"""The process's Prometheus metrics, and how a scrape is rendered.

Counters and histograms are updated in the process that observes them (a gunicorn worker, a
Celery worker). With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers; see
docs/observability.md) prometheus_client writes them to files in that directory and a scrape
merges every process's files; without it they live in this process's registry.

State read from the database (outbox backlog, webhook deliveries by result, open exceptions) is
not a per-process metric: a collector queries it at scrape time. The kernel knows no app, so the
app that owns those figures registers its collector here when it loads
(`register_state_collector`, called by ops/apps.py).
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client.registry import Collector

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter(
    "oms_http_requests_total",
    "HTTP requests answered, by method, route name and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "oms_http_request_duration_seconds",
    "Time from the request entering the middleware to the response leaving it.",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
TASKS = Counter(
    "oms_celery_tasks_total",
    "Celery tasks finished, by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)
TASK_LATENCY = Histogram(
    "oms_celery_task_duration_seconds",
    "Celery task run time (task_prerun to task_postrun), by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)

_STATE_REGISTRY = CollectorRegistry(auto_describe=False)


def register_state_collector(collector: Collector) -> None:
    """Add a scrape-time collector of database state (a port for the apps above the kernel)."""
    _STATE_REGISTRY.register(collector)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def render_latest() -> tuple[bytes, str]:
    """The text exposition of every metric: this process's (or all processes') plus state."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_STATE_REGISTRY), CONTENT_TYPE_LATEST
