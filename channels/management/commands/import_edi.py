"""`manage.py import_edi --channel acme-edi FILE...`: take a trading partner's X12 850 files in
(a 997 is written for each to the partner's outbox folder, a TA1 for an envelope refused).
`manage.py import_edi --channel acme-edi --inbox`: the files waiting in the partner's inbox
folder, as the beat task takes them (then moved to processed/ or failed/)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.models import ChannelConnection, Platform
from channels.services.edi import import_edi_inbox, import_interchange, inbox


class Command(BaseCommand):
    help = "Import X12 850 purchase orders of an EDI channel's trading partner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="The EDI channel's code.")
        parser.add_argument("files", nargs="*", type=Path)
        parser.add_argument(
            "--inbox", action="store_true", help="Take the files in the partner's inbox folder."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = (
            ChannelConnection.objects.select_related("channel")
            .filter(channel__code=options["channel"], platform=Platform.X12)
            .first()
        )
        if connection is None:
            raise CommandError(f"No EDI channel {options['channel']!r}.")
        if options["inbox"]:
            counts = import_edi_inbox(connection, min_age_seconds=0)
            self.stdout.write(f"{inbox(connection)}: {counts}")
            return
        if not options["files"]:
            raise CommandError("Name the files, or --inbox.")
        for path in options["files"]:
            result = import_interchange(connection, path.read_bytes(), name=path.name)
            if result.refused:
                self.stdout.write(f"{path.name}: refused ({result.refused})")
            for outcome in result.results:
                self.stdout.write(
                    f"{path.name}: {outcome['status']} {outcome.get('order', '')} "
                    f"{outcome.get('code', '')}".rstrip()
                )
            for ack_file in result.ack_files:
                self.stdout.write(f"{path.name}: {ack_file.split('-')[0]} written as {ack_file}")
