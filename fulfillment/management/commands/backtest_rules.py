"""`manage.py backtest_rules --ruleset N --from DATE --to DATE`: replay past orders against a
rule set (no stock is touched) and print its figures next to the active set's."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime

from fulfillment.services.backtest import run_backtest
from oms.core.errors import DomainError

ROWS = [
    ("orders", "orders replayed", "{}"),
    ("fully_sourced_share", "fully sourced", "{:.1%}"),
    ("split_shipment_rate", "split-shipment rate", "{:.1%}"),
    ("shipments", "shipments", "{}"),
    ("average_distance_miles", "average distance (miles)", "{}"),
    ("estimated_cost", "estimated shipping cost", "{:,.2f}"),
    ("backordered_units", "backordered units", "{}"),
    ("rejected_orders", "rejected orders", "{}"),
    ("plan_ms_p50", "routing p50 (ms)", "{}"),
    ("plan_ms_p99", "routing p99 (ms)", "{}"),
]


def _moment(value: str, *, end: bool) -> datetime:
    moment = parse_datetime(value)
    if moment is not None:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    day = parse_date(value)
    if day is None:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO date-time.")
    # A bare --to date includes that whole day.
    return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)


class Command(BaseCommand):
    help = "Backtest a routing rule set on past orders, next to the active set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ruleset", type=int, required=True, help="Rule set id.")
        parser.add_argument("--from", dest="period_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="period_to", required=True, help="YYYY-MM-DD (inclusive)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = run_backtest(
                rule_set_id=options["ruleset"],
                period_from=_moment(options["period_from"], end=False),
                period_to=_moment(options["period_to"], end=True),
                user=None,
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        candidate, baseline = report.candidate_metrics, report.baseline_metrics
        self.stdout.write(
            f"Backtest #{report.pk}: {report.rule_set} vs {baseline.get('label')}, "
            f"{report.orders_considered} orders, {report.elapsed_ms} ms"
        )
        self.stdout.write(f"{'':28}{'candidate':>14}{'active':>14}")
        for key, label, fmt in ROWS:
            self.stdout.write(
                f"{label:28}{_fmt(candidate.get(key), fmt):>14}{_fmt(baseline.get(key), fmt):>14}"
            )
        self.stdout.write("node load (shipments), candidate / active:")
        nodes = sorted(set(candidate["node_load"]) | set(baseline["node_load"]))
        for code in nodes:
            self.stdout.write(
                f"  {code:26}{candidate['node_load'].get(code, 0):>14}"
                f"{baseline['node_load'].get(code, 0):>14}"
            )


def _fmt(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)
