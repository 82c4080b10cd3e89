"""`manage.py revoke_api_client --prefix <prefix>` (or `--id N`): the key stops working at once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.errors import DomainError
from orders.services.api_clients import revoke_api_client


class Command(BaseCommand):
    help = "Revoke an API client's key, found by its prefix or id. Revoking twice is harmless."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--prefix", help="The key's prefix (the part after 'oms_').")
        which.add_argument("--id", type=int, dest="client_id", help="The API client's id.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = revoke_api_client(client_id=options["client_id"], prefix=options["prefix"])
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        revoked_at = client.revoked_at.isoformat() if client.revoked_at else "?"
        self.stdout.write(
            f"Revoked API client {client.name} (channel {client.channel.code}, prefix "
            f"{client.prefix}) at {revoked_at}. Requests with its key now get 401."
        )
