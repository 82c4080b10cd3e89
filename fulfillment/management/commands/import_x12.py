"""`manage.py import_x12`: apply X12 files from file nodes: 945 Warehouse Shipping Advices, and
944 Warehouse Stock Transfer Receipt Advices (returns received; returns/x12.py).

    import_x12                          every *.edi / *.x12 / *.txt in OMS_X12_INBOX_DIR
    import_x12 --inbox /srv/sftp/in     another inbox
    import_x12 --node dc-3pl a.edi b.edi   these files, from this node

Each file is moved to processed/ or failed/ beside it (see fulfillment/x12/inbox.py).
Importing a file twice has one effect. Exits with status 1 when any file had an error.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fulfillment.x12.inbox import import_945_file, import_x12_inbox
from fulfillment.x12.results import ImportResult
from oms.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Apply X12 945 (shipping advice) and 944 (return receipt) files: the given ones, or the "
        "whole inbox."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="X12 files (default: the inbox).")
        parser.add_argument(
            "--inbox", type=Path, help="Folder to scan (default: settings.OMS_X12_INBOX_DIR)."
        )
        parser.add_argument(
            "--node", help="Node the files come from (default: found from the ISA sender id)."
        )
        parser.add_argument(
            "--min-age",
            type=float,
            default=0.0,
            help="Inbox scan: leave files modified less than this many seconds ago.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"]
        node = options["node"]
        try:
            if files:
                results = [import_945_file(path, node_code=node) for path in files]
            else:
                inbox = options["inbox"] or Path(settings.OMS_X12_INBOX_DIR)
                results = import_x12_inbox(
                    inbox, node_code=node, min_age_seconds=options["min_age"]
                )
                if not results:
                    self.stdout.write(f"No 945 files in {inbox}.")
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.detail}") from None
        for result in results:
            self._report(result)
        failed = [r for r in results if r.errors]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} file(s) had errors.")

    def _report(self, result: ImportResult) -> None:
        style = self.style.ERROR if result.errors else self.style.SUCCESS
        where = f" → {result.moved_to}" if result.moved_to else ""
        self.stdout.write(
            f"{result.file}: {result.status}{where}; {len(result.advices)} advice(s), "
            f"{result.applied} applied, {result.duplicates} duplicate(s), "
            f"{len(result.errors)} error(s)",
            style_func=style,
        )
        if result.error_code:
            self.stdout.write(f"  error {result.error_code}: {result.error}")
        elif result.status == "skipped":
            self.stdout.write(f"  skipped: {result.error}")
        for advice in result.advices:
            line = f"  {advice.message_id} {advice.fulfillment or '-'}: {advice.outcome}"
            if advice.tracking_numbers:
                line += f" (tracking {', '.join(advice.tracking_numbers)})"
            if advice.error_code:
                line += f" {advice.error_code}: {advice.error}"
            self.stdout.write(line)
