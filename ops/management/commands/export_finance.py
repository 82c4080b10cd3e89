"""Finance exports for a scheduled ERP drop (cron, or a Celery beat entry), the same datasets
and writers as the admin's finance area:

    python manage.py export_finance --kind payments --from 2026-11-01 --to 2026-11-30 \\
        --format xlsx --out payments-2026-11.xlsx [--channel web] [--currency USD]
"""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.errors import DomainError
from ops.finance.datasets import DATASETS, Query
from ops.finance.exports import check_request, export_to_path


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Export a finance dataset as CSV or XLSX: orders, lines, taxes, payments (every payment "
        "transaction; settled_amount is what moved money), refunds, returns, settlement (per "
        "day, channel and currency; ties out to the payments export)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, help=f"one of: {', '.join(DATASETS)}")
        parser.add_argument("--from", dest="date_from", required=True, type=_date)
        parser.add_argument("--to", dest="date_to", required=True, type=_date)
        parser.add_argument("--format", dest="file_format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--channel", default="", help="a channel code")
        parser.add_argument("--currency", default="", help="an ISO currency code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check_request(
                kind=options["kind"],
                file_format=options["file_format"],
                date_from=options["date_from"],
                date_to=options["date_to"],
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        query = Query(
            options["date_from"], options["date_to"], options["channel"], options["currency"]
        )
        rows = export_to_path(
            kind=options["kind"],
            file_format=options["file_format"],
            query=query,
            path=options["out"],
        )
        self.stdout.write(f"{options['kind']}: {rows} rows written to {options['out']}")
