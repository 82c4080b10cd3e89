"""What every importer does for one canonical record; the runner (services/runs.py) calls it."""

from typing import Any

from django.db.models import Model

from migration.mapping.extract import CanonicalRecord, RowError
from migration.mapping.schema import Mapping
from migration.services.report import Report
from oms.core.actors import Actor


class Importer:
    target_type = ""
    can_update = False
    # Checked records written together, in one transaction (services/runs.py flush()).
    batch_size = 1
    # Tables the import grows and looks up by key per chunk (prefetch, conflict): analyzed
    # as they grow (services/runs.py analyze()).
    grows: tuple[type[Model], ...] = ()

    def __init__(self, mapping: Mapping, report: Report, *, dry_run: bool, actor: Actor) -> None:
        self.mapping = mapping
        self.report = report
        self.dry_run = dry_run
        self.actor = actor
        self.pending: list[Any] = []

    def key(self, record: CanonicalRecord) -> str:
        return record.source_id

    def prefetch(self, records: list[CanonicalRecord]) -> None:
        """Before checking a chunk of records: read what their checks need in a few queries."""

    def conflict(self, record: CanonicalRecord) -> RowError | None:
        """A row already in oms that this source did not make (an import would clash)."""
        return None

    def check(self, record: CanonicalRecord) -> list[RowError]:
        """Everything a real run would refuse, found with reads only."""
        return []

    def create(self, record: CanonicalRecord) -> str:
        raise NotImplementedError

    def create_many(self, records: list[CanonicalRecord]) -> list[str]:
        """Write checked records (the caller holds the transaction); their target ids."""
        return [self.create(record) for record in records]

    def update(self, record: CanonicalRecord, target_id: str) -> None:
        raise NotImplementedError

    def rolled_back(self) -> None:
        """A write transaction was rolled back: forget rows cached from it."""

    def finish(self) -> None:
        """After the last record."""

    @staticmethod
    def err(
        record: CanonicalRecord,
        code: str,
        field: str = "",
        detail: str = "",
        value: Any = "",
        line: int | None = None,
    ) -> RowError:
        return RowError(
            line or record.line,
            code,
            field,
            detail,
            "" if value is None else str(value),
            record.source_id,
        )
