"""The report of an import job: what was read, what was (or would be) created, updated or
skipped, duplicates, coded row errors with their source line, unmapped values with counts, and
money totals per currency. Stored on the job as JSON and printed by the command."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from migration.mapping.extract import RowError

MAX_STORED_ERRORS = 500


@dataclass
class Report:
    mapping: str
    source: str
    kind: str
    input: str
    dry_run: bool
    rows_read: int = 0
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    filtered: int = 0
    refused: int = 0
    duplicates_in_file: int = 0
    duplicates_in_db: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_counts: Counter[str] = field(default_factory=Counter)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    unmapped: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    money: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    notes: list[str] = field(default_factory=list)
    fatal: bool = False

    def error(self, error: RowError) -> None:
        self.error_counts[error.code] += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error.as_dict())

    def refuse(self, errors: list[RowError]) -> None:
        self.refused += 1
        for error in errors:
            self.error(error)

    def warn(self, error: RowError) -> None:
        self.error_counts[f"warning:{error.code}"] += 1
        if len(self.warnings) < MAX_STORED_ERRORS:
            self.warnings.append(error.as_dict())

    @property
    def error_total(self) -> int:
        return sum(n for code, n in self.error_counts.items() if not code.startswith("warning:"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping,
            "source": self.source,
            "kind": self.kind,
            "input": self.input,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "records": self.records,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "filtered": self.filtered,
            "refused": self.refused,
            "duplicates_in_file": self.duplicates_in_file,
            "duplicates_in_db": self.duplicates_in_db,
            "error_counts": dict(sorted(self.error_counts.items())),
            "errors": self.errors,
            "warnings": self.warnings,
            "unmapped": {f: dict(c.most_common()) for f, c in sorted(self.unmapped.items())},
            "money": {currency: str(total) for currency, total in sorted(self.money.items())},
            "notes": self.notes,
            "fatal": self.fatal,
        }

    def summary_lines(self) -> list[str]:
        verb = "would " if self.dry_run else ""
        lines = [
            f"{'DRY RUN ' if self.dry_run else ''}{self.mapping} ({self.kind}) on {self.input}",
            f"rows read {self.rows_read}, records {self.records}",
            f"{verb}create {self.created}, {verb}update {self.updated}, "
            f"unchanged {self.unchanged}, filtered out {self.filtered}, refused {self.refused}",
            f"duplicates in file {self.duplicates_in_file}, against the database "
            f"{self.duplicates_in_db}",
        ]
        for currency, total in sorted(self.money.items()):
            lines.append(f"money {currency} {total}")
        for code, count in sorted(self.error_counts.items()):
            lines.append(f"  {code}: {count}")
        for error in self.errors[:50]:
            where = f"line {error.get('line', '?')}"
            lines.append(
                f"  {where} {error.get('source_id', '')} {error['code']} "
                f"{error.get('field', '')} {error.get('detail', '')}".rstrip()
            )
        for warning in self.warnings[:20]:
            lines.append(
                f"  warning line {warning.get('line', '?')} {warning['code']} "
                f"{warning.get('detail', '')}"
            )
        for name, counts in sorted(self.unmapped.items()):
            lines.append(f"  unmapped {name}: {dict(counts.most_common(10))}")
        lines.extend(f"  {note}" for note in self.notes)
        return lines
