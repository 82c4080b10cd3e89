"""Propose a channel's cutover plan (and, with --approve-as, approve it as a second person).

    python manage.py cutover --channel web --mode shadow
    python manage.py cutover --channel web --mode canary --share 10 --region CA --approve-as lead
    python manage.py cutover --channel web --mode legacy --as alice --approve-as bob   # rollback

A plan goes through the same maker-checker approval as routing rule sets: the approver must
be another person than the author (--as). Approving `legacy` is the rollback switch: the
channel's unreleased oms orders are handed back and sent to the legacy system.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration.models import CutoverMode
from migration.services.cutover import approve_plan, propose_plan
from oms.core.errors import DomainError


class Command(BaseCommand):
    help = "Propose a cutover plan for a channel (legacy | shadow | canary | oms)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="The channel's code.")
        parser.add_argument("--mode", required=True, choices=CutoverMode.values)
        parser.add_argument("--share", help="Canary: percent of orders oms owns (0-100).")
        parser.add_argument("--region", action="append", default=[], help="Canary: only here.")
        parser.add_argument("--postal-prefix", action="append", default=[], dest="postal")
        parser.add_argument("--store", action="append", default=[], help="Pickup store code.")
        parser.add_argument("--delivery-method", action="append", default=[], dest="methods")
        parser.add_argument("--as", dest="author", help="Username of the author (default: none).")
        parser.add_argument("--approve-as", help="Username of a second person who approves it.")
        parser.add_argument("--note", default="", help="The approval note.")

    def handle(self, *args: Any, **options: Any) -> None:
        narrowing = {
            key: values
            for key, values in (
                ("regions", options["region"]),
                ("postal_prefixes", options["postal"]),
                ("stores", options["store"]),
                ("delivery_methods", options["methods"]),
            )
            if values
        }
        try:
            plan = propose_plan(
                channel_code=options["channel"],
                mode=options["mode"],
                share_percent=options["share"],
                narrowing=narrowing or None,
                author=self._user(options["author"]),
            )
            self.stdout.write(f"proposed {plan} (id {plan.pk}), waiting for approval")
            if options["approve_as"]:
                approved = approve_plan(
                    plan_id=plan.pk,
                    approver=self._user(options["approve_as"]),
                    note=options["note"],
                )
                self.stdout.write(
                    f"approved by {options['approve_as']}: {options['channel']} is now "
                    f"{plan.mode} (was {approved.previous_mode})"
                )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.detail}") from error

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user
