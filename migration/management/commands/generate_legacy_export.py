"""`manage.py generate_legacy_export --shape shopify_csv|sterling_xml --orders N --out FILE`:
a large history export in a corpus shape (migration/generator.py), for benchmarks and tests."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from migration.generator import write_export


class Command(BaseCommand):
    help = "Write a generated legacy history export (Shopify order CSV or Sterling Order XML)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shape", choices=["shopify_csv", "sterling_xml"], required=True)
        parser.add_argument("--orders", type=int, required=True)
        parser.add_argument("--skus", type=int, default=100)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        write_export(
            options["out"], options["shape"], options["orders"],
            sku_count=options["skus"], seed=options["seed"],
        )  # fmt: skip
        self.stdout.write(f"wrote {options['orders']} orders to {options['out']}")
