"""Gauges computed from the database at scrape time (outbox backlog, webhook deliveries by
status, open exception cases by queue and SLA state). A scrape never fails: when reading them
fails, `oms_state_collector_up` is 0 and the error is logged."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.kpis import sources

logger = logging.getLogger(__name__)


class StateCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except Exception:  # a scrape must never fail because one source did
            logger.exception("metrics state collection failed")
            up = GaugeMetricFamily("oms_state_collector_up", "1 when state metrics were read.")
            up.add_metric([], 0)
            yield up

    def _collect(self) -> Iterator[Metric]:
        g = GaugeMetricFamily(
            "oms_outbox_backlog_events", "Events recorded but not yet dispatched to webhooks."
        )
        g.add_metric([], sources.outbox_backlog())
        yield g
        g = GaugeMetricFamily(
            "oms_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
        )
        for status, count in sorted(sources.webhook_deliveries_by_status().items()):
            g.add_metric([status], count)
        yield g
        g = GaugeMetricFamily(
            "oms_open_exceptions",
            "Open exception cases by queue and SLA state.",
            labels=["queue", "sla"],
        )
        for (queue, sla), count in sorted(sources.open_exception_counts().items()):
            g.add_metric([queue, sla], count)
        yield g
        up = GaugeMetricFamily("oms_state_collector_up", "1 when state metrics were read.")
        up.add_metric([], 1)
        yield up
