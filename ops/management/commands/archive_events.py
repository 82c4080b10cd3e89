"""Archive the event log's months before a month: export each to a gzip JSONL file in --out,
then remove those events (ops/services/event_archive.py, docs/adr/0016-event-log-archive.md).

    manage.py archive_events --before 2024-07 --out /var/lib/oms/event-archive

Refused for months within OMS_EVENT_RETENTION_MONTHS. Events of open orders, events a webhook
delivery, channel call or ERP document points at, and events the outbox relay has not seen stay
in the log; each month's figures are printed and recorded as an `events.archived` event.
"""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.actors import Actor
from oms.core.errors import DomainError
from ops.services.event_archive import archive_events


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError as exc:
        raise CommandError(f"not a month (YYYY-MM): {value}") from exc


class Command(BaseCommand):
    help = "Export the event log's months before --before to gzip JSONL files and remove them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, type=_month, help="YYYY-MM (kept)")
        parser.add_argument("--out", default="event-archive", type=Path, help="directory")

    def handle(self, *args: Any, before: date, out: Path, **options: Any) -> None:
        try:
            months = archive_events(
                before=before, out_dir=out, actor=Actor.system("archive_events")
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.detail}") from exc
        for m in months:
            where = f" → {m.path} (sha256 {m.sha256[:12]}…)" if m.path else ""
            self.stdout.write(f"{m.month}: {m.archived:,} archived, {m.kept:,} kept{where}")
        total = sum(m.archived for m in months)
        self.stdout.write(f"{total:,} events archived from {len(months)} months")
