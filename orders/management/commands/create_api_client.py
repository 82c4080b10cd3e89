"""`manage.py create_api_client --channel web --name storefront`: issue a key, print it once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.core.errors import DomainError
from orders.services.api_clients import create_api_client


class Command(BaseCommand):
    help = "Create an API client for a channel and print its key (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="Channel code, e.g. web or pos.")
        parser.add_argument("--name", required=True, help="Who calls the API, e.g. storefront.")

    def handle(self, *args: Any, **options: Any) -> None:
        channel_code: str = options["channel"].strip()
        name: str = options["name"].strip()
        if not name:
            raise CommandError("--name must not be empty.")
        try:
            issued = create_api_client(channel_code=channel_code, name=name)
        except DomainError as exc:
            raise CommandError(
                f"{exc.detail} Create the channel first (admin, or `manage.py seed_demo`)."
            ) from exc
        client = issued.client
        self.stdout.write(
            f"API key for {client.name} (channel {client.channel.code}): {issued.key}"
        )
        self.stdout.write(
            f"Store it now: it will not be shown again. Its prefix ({client.prefix}) identifies "
            f"it in the admin and in `manage.py revoke_api_client --prefix {client.prefix}`."
        )
