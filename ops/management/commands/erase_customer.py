"""`manage.py erase_customer --email <address> | --order <number> [--dry-run | --yes]`:
erase one customer's personal data from their orders, the event readers (a redaction, not an
edit of history), the inbound message log, kept webhook responses and shipping labels. Money
and stock are untouched. docs/security.md, "Personal data"."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.actors import Actor
from oms.core.errors import DomainError
from ops.services.erasure import OrderErasureReport, erase_customer


class Command(BaseCommand):
    help = (
        "Erase a customer's personal data (name, e-mail, phone, addresses, notes) from their "
        "orders and every place that copied it. Money and stock are kept. --dry-run shows what "
        "would change; --yes is required to change anything. Running it twice is harmless."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--email", default="", help="Every order with this e-mail address.")
        which.add_argument("--order", default="", help="One order, by its number.")
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="Change nothing; report.")
        mode.add_argument("--yes", action="store_true", help="Confirm: erase for real.")
        parser.add_argument("--reason", default="", help="e.g. the request's ticket number.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        try:
            reports = erase_customer(
                actor=Actor.system("erase_customer"),
                email=options["email"],
                order_number=options["order"],
                reason=options["reason"],
                dry_run=dry_run,
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        if not reports:
            self.stdout.write("No orders match: nothing to erase.")
            return
        verb = "would erase" if dry_run else "erased"
        for report in reports:
            self.stdout.write(self._line(report, verb))
        changed = sum(1 for r in reports if r.changed)
        refused = sum(1 for r in reports if r.refused)
        summary = f"{len(reports)} order(s): {changed} {verb}, {refused} refused."
        if dry_run:
            summary += " Dry run: nothing was changed (pass --yes to erase)."
        self.stdout.write(summary)
        if refused:
            raise CommandError(f"{refused} order(s) refused (still open).")

    @staticmethod
    def _line(report: OrderErasureReport, verb: str) -> str:
        if report.refused:
            return f"{report.number}: refused: {report.refused}"
        if not report.changed:
            return f"{report.number}: nothing left to erase"
        parts = []
        if report.fields:
            parts.append("fields " + ", ".join(report.fields))
        if report.inbound_messages:
            parts.append(f"{report.inbound_messages} inbound message(s)")
        if report.webhook_responses:
            parts.append(f"{report.webhook_responses} webhook response(s)")
        if report.exception_cases:
            parts.append(f"{report.exception_cases} exception case(s)")
        if report.labels:
            parts.append(f"{report.labels} shipping label(s)")
        return f"{report.number}: {verb} " + "; ".join(parts)
