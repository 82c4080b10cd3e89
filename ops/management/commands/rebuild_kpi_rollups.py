"""Recompute the daily KPI rollups (ops/kpis/rollups.py) of a range of UTC days: after a
bulk import of history at source times, after a restore, or to build them the first time.

    manage.py rebuild_kpi_rollups --from 2025-01-01 --to 2025-12-31
    manage.py rebuild_kpi_rollups            # the last 14 days

Idempotent: each day is replaced in one transaction. Today is never stored (the dashboard
computes it from the orders), so the range stops at yesterday.
"""

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.kpis import rollups


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Recompute the daily KPI rollups of a range of UTC days (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=_day, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=_day, help="last day, YYYY-MM-DD")

    def handle(self, *args: Any, start: date | None, end: date | None, **options: Any) -> None:
        yesterday = rollups.today() - timedelta(days=1)
        end = min(end or yesterday, yesterday)
        start = start or end - timedelta(days=rollups.RECENT_DAYS - 1)
        if start > end:
            raise CommandError(f"nothing to rebuild: {start} is after {end} (yesterday at most)")
        days = rollups.rebuild(start, end)
        self.stdout.write(f"rebuilt {len(days)} days of KPI rollups, {start} to {end}")
