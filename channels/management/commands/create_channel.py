"""`manage.py create_channel --code shop --platform shopify --webhook-secret S`: connect a
channel to its platform (the channel is made when it does not exist yet)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.models import Platform
from channels.services.setup import create_channel
from oms.core.errors import DomainError


class Command(BaseCommand):
    help = "Connect a sales channel to its platform (Shopify, WooCommerce, Amazon, ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True, help="Channel code, e.g. shopify-us.")
        parser.add_argument("--platform", required=True, choices=Platform.values)
        parser.add_argument("--webhook-secret", default="", help="The platform's signing secret.")
        parser.add_argument("--name", default="", help="Display name (default: the code).")
        parser.add_argument("--base-url", default="", help="The platform's API root.")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            connection = create_channel(
                code=options["code"].strip(),
                platform=options["platform"],
                webhook_secret=options["webhook_secret"],
                name=options["name"],
                base_url=options["base_url"],
                currency=options["currency"],
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            f"Channel {connection.code} connected to {connection.get_platform_display()}: "
            f"webhooks at /webhooks/{connection.platform}/{connection.code}/"
        )
        if not connection.webhook_secret:
            self.stdout.write("No webhook secret yet: webhooks are refused until one is set.")
