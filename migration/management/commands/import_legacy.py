"""`manage.py import_legacy --mapping FILE --input FILE [--dry-run] [--report OUT.json]`

One command for every kind (the mapping says which). The mapping is a path or the name of a
shipped one in migration/mappings/. The report is printed, stored on the import job (admin:
Migration › Import jobs) and, with --report, written as JSON. A dry run writes nothing but the
job and its report.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration.mapping.schema import MappingError
from migration.services.jobs import create_job, execute_job, resolve_mapping_path
from oms.core.actors import Actor


class Command(BaseCommand):
    help = "Import a legacy export through a mapping file (products, nodes, stock, orders)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mapping", required=True, help="Mapping file or shipped name.")
        parser.add_argument("--input", required=True, type=Path, help="The legacy export.")
        parser.add_argument("--dry-run", action="store_true", help="Read and check; write nothing.")
        parser.add_argument("--report", type=Path, help="Also write the report here as JSON.")
        parser.add_argument(
            "--update-changed",
            action="store_true",
            help="A source row changed since its import updates what it made (products, "
            "nodes); without it the change is reported.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mapping_path = resolve_mapping_path(options["mapping"])
        if not mapping_path.exists():
            raise CommandError(f"no mapping file {options['mapping']}")
        if not options["input"].exists():
            raise CommandError(f"no input file {options['input']}")
        actor = Actor.system("import_legacy")
        try:
            job = create_job(
                mapping_path=mapping_path,
                input_path=options["input"],
                dry_run=options["dry_run"],
                update_changed=options["update_changed"],
                actor=actor,
            )
        except MappingError as exc:
            raise CommandError(str(exc)) from None
        report = execute_job(job_id=job.pk, actor=actor)
        if report is None:  # the job was just created, so it was pending
            raise RuntimeError("checked before")
        for line in report.summary_lines():
            self.stdout.write(line)
        self.stdout.write(f"import job #{job.pk}")
        if options["report"]:
            options["report"].write_text(json.dumps(report.as_dict(), indent=2))
