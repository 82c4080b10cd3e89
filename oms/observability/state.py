"""Gauges computed from the database at scrape time, each guarded: a model that another part
of the system has not shipped yet (webhook deliveries, exception cases) is simply skipped."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from oms.kpis import sources

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
        backlog = sources.outbox_backlog()
        if backlog is not None:
            g = GaugeMetricFamily(
                "oms_outbox_backlog_events", "Events recorded but not yet dispatched to webhooks."
            )
            g.add_metric([], backlog)
            yield g
        deliveries = sources.webhook_deliveries_by_status()
        if deliveries is not None:
            g = GaugeMetricFamily(
                "oms_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
            )
            for status, count in sorted(deliveries.items()):
                g.add_metric([status], count)
            yield g
        cases = sources.open_exception_counts()
        if cases is not None:
            g = GaugeMetricFamily(
                "oms_open_exceptions",
                "Open exception cases by queue and SLA state.",
                labels=["queue", "sla"],
            )
            for (queue, sla), count in sorted(cases.items()):
                g.add_metric([queue, sla], count)
            yield g
        up = GaugeMetricFamily("oms_state_collector_up", "1 when state metrics were read.")
        up.add_metric([], 1)
        yield up
