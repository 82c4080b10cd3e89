"""`manage.py create_api_client --channel web --name storefront` (or `--node dc-columbus` for a
warehouse system sending fulfillment feedback): issue a key, print it once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.errors import DomainError
from orders.services.api_clients import create_api_client


class Command(BaseCommand):
    help = "Create an API client for a channel or a node and print its key (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--channel", help="Channel code, e.g. web or pos.")
        scope.add_argument("--node", help="Node code, e.g. dc-columbus (fulfillment feedback).")
        parser.add_argument("--name", required=True, help="Who calls the API, e.g. storefront.")

    def handle(self, *args: Any, **options: Any) -> None:
        channel_code = (options["channel"] or "").strip() or None
        node_code = (options["node"] or "").strip() or None
        name: str = options["name"].strip()
        if not name:
            raise CommandError("--name must not be empty.")
        try:
            issued = create_api_client(channel_code=channel_code, node_code=node_code, name=name)
        except DomainError as exc:
            raise CommandError(
                f"{exc.detail} Create it first (admin, or `manage.py seed_demo`)."
            ) from exc
        client = issued.client
        self.stdout.write(f"API key for {client.name} ({client.scope_label}): {issued.key}")
        self.stdout.write(
            f"Store it now: it will not be shown again. Its prefix ({client.prefix}) identifies "
            f"it in the admin and in `manage.py revoke_api_client --prefix {client.prefix}`."
        )
