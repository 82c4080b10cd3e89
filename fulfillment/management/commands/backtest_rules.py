"""`manage.py backtest_rules --ruleset N --from DATE --to DATE`: replay past orders against a
rule set (no stock is touched) and print its figures next to the active set's.

`--against legacy` instead replays the set over the period's mirrored legacy orders and prints
its agreement with the legacy system's decisions (during a cutover; the migration app answers
through fulfillment/legacy_backtest.py)."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime

from fulfillment.legacy_backtest import legacy_backtest_runner
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
    # A bare date first: parse_datetime() also reads "2026-11-01" (as midnight), which would
    # make a bare --to date leave its own day out.
    day = parse_date(value)
    if day is not None:
        # A bare --to date includes that whole day.
        return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO date-time.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _refused(exc: DomainError) -> CommandError:
    return CommandError("; ".join(e.detail for e in exc.errors) or exc.detail)


class Command(BaseCommand):
    help = "Backtest a routing rule set on past orders, next to the active set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ruleset", type=int, required=True, help="Rule set id.")
        parser.add_argument("--from", dest="period_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="period_to", required=True, help="YYYY-MM-DD (inclusive)")
        parser.add_argument(
            "--against",
            choices=["active", "legacy"],
            default="active",
            help="active: next to the active set (a stored report); legacy: agreement with the "
            "legacy system's decisions on mirrored orders (a cutover; nothing stored).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["against"] == "legacy":
            self._against_legacy(options)
            return
        try:
            report = run_backtest(
                rule_set_id=options["ruleset"],
                period_from=_moment(options["period_from"], end=False),
                period_to=_moment(options["period_to"], end=True),
                user=None,
            )
        except DomainError as exc:
            raise _refused(exc) from exc
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

    def _against_legacy(self, options: dict[str, Any]) -> None:
        runner = legacy_backtest_runner()
        if runner is None:
            raise CommandError("No legacy decisions to compare with: the migration app is off.")
        try:
            lines = runner(
                options["ruleset"],
                _moment(options["period_from"], end=False),
                _moment(options["period_to"], end=True),
            )
        except DomainError as exc:
            raise _refused(exc) from exc
        for line in lines:
            self.stdout.write(line)


def _fmt(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)
