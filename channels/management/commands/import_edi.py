"""`manage.py import_edi --channel acme-edi FILE...`: take a trading partner's X12 850 files in
(a 997 is written for each to the partner's outbox folder)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.models import ChannelConnection, Platform
from channels.services.edi import import_interchange


class Command(BaseCommand):
    help = "Import X12 850 purchase orders of an EDI channel's trading partner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="The EDI channel's code.")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = (
            ChannelConnection.objects.select_related("channel")
            .filter(channel__code=options["channel"], platform=Platform.X12)
            .first()
        )
        if connection is None:
            raise CommandError(f"No EDI channel {options['channel']!r}.")
        for path in options["files"]:
            result = import_interchange(connection, path.read_bytes(), name=path.name)
            if result.refused:
                self.stdout.write(f"{path.name}: refused ({result.refused})")
                continue
            for outcome in result.results:
                self.stdout.write(
                    f"{path.name}: {outcome['status']} {outcome.get('order', '')} "
                    f"{outcome.get('code', '')}".rstrip()
                )
            for ack_file in result.ack_files:
                self.stdout.write(f"{path.name}: 997 written as {ack_file}")
