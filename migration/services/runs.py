"""run_import(): one mapping over one file, dry or real, into a Report.

Per record: read (coded read errors), extract (coded field errors, unmapped values), skip what
`where` filters out, find duplicates inside the file (by key) and against the database (the
same (source, kind, source id) imported before: unchanged, or changed in the source: updated
with `update_changed` where the kind can, else reported), then the kind's checks (reads only).
A dry run stops there and writes nothing. A real run writes checked records in batches (the
importer's batch_size), each batch in one transaction with its ImportedRecord rows, so
re-running the import changes nothing; a batch with a refused record is written record by
record. Records are read ahead in chunks of CHUNK, for one lookup of earlier imports each.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from migration.importers.base import Importer
from migration.importers.catalogue import NodeImporter, ProductImporter, StockImporter
from migration.importers.orders import OrderImporter
from migration.importers.reference import (
    AllocationImporter,
    CancellationImporter,
    ShipmentImporter,
    StatusCodeImporter,
)
from migration.mapping.extract import CanonicalRecord, Extractor, RowError
from migration.mapping.readers import ReadProblem, SourceRecord, read_records
from migration.mapping.schema import WRITING_KINDS, FieldSpec, Mapping
from migration.models import ImportedRecord, ImportJob
from migration.services.report import Report
from oms.core.actors import Actor
from oms.core.bulk import copy_rows
from oms.core.errors import DomainError

IMPORTERS: dict[str, type[Importer]] = {
    "products": ProductImporter,
    "nodes": NodeImporter,
    "stock": StockImporter,
    "orders": OrderImporter,
    "status_codes": StatusCodeImporter,
    "allocations": AllocationImporter,
    "shipments": ShipmentImporter,
    "cancellations": CancellationImporter,
}
# Records read ahead to look up what was imported before in one query (and progress saved).
CHUNK = 1000
# Chunks between two ANALYZEs of the tables an import grows (see analyze()).
ANALYZE_EVERY = 25


def analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's statistics of the tables an import grows, at its start and every
    ANALYZE_EVERY chunks. Without them (autovacuum off, or behind a long import) the planner
    takes a table of a million rows for an empty one, and each chunk's look-up of earlier
    imports (`source_id IN (1,000 keys)`) scans every row of the source instead of probing the
    unique index: 100 ms per chunk at 200,000 rows, growing with the table (6 ms analyzed)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def csv_columns(mapping: Mapping) -> set[str]:
    """The columns a CSV source's header must have: every `from` of the mapping."""
    columns: set[str] = set()
    specs: list[FieldSpec] = list(mapping.fields.values())
    if mapping.lines:
        specs += list(mapping.lines.fields.values())
    while specs:
        spec = specs.pop()
        if isinstance(spec.from_, str):
            columns.add(spec.from_)
        elif isinstance(spec.from_, list):
            columns.update(spec.from_)
        if spec.fallback:
            specs.append(spec.fallback)
    if mapping.format.group_by:
        columns.add(mapping.format.group_by)
    return columns


def checksum(record: CanonicalRecord) -> str:
    body = {
        "fields": record.fields,
        "lines": [{k: v for k, v in line.items() if k != "_line"} for line in record.lines],
    }
    text = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_import(
    *,
    mapping: Mapping,
    input_path: Path,
    dry_run: bool,
    actor: Actor,
    update_changed: bool = False,
    job: ImportJob | None = None,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    writes = not dry_run and mapping.kind in WRITING_KINDS
    report = Report(
        mapping=mapping.name,
        source=mapping.source,
        kind=mapping.kind,
        input=str(input_path),
        dry_run=not writes,
    )
    if not dry_run and not writes:
        report.notes.append(f"{mapping.kind} are read and checked only (part 1): nothing written")
    importer = IMPORTERS[mapping.kind](mapping, report, dry_run=not writes, actor=actor)
    extractor = Extractor(mapping)
    seen: set[str] = set()
    chunk: list[CanonicalRecord] = []

    chunks = 0

    def run_chunk() -> None:
        nonlocal chunks
        if writes and chunks % ANALYZE_EVERY == 0:
            analyze(ImportedRecord, *importer.grows)
        chunks += 1
        keys = [importer.key(record)[:200] for record in chunk]
        imported = {
            r.source_id: r
            for r in ImportedRecord.objects.filter(
                source=mapping.source, kind=mapping.kind, source_id__in=keys
            )
        }
        importer.prefetch(chunk)
        for record, key in zip(chunk, keys, strict=True):
            _one(record, key, imported.get(key), importer, report, writes=writes,
                 update_changed=update_changed, job=job)  # fmt: skip
        chunk.clear()
        if progress is not None:
            progress(report)

    for _, record in mapped_records(mapping, input_path, report, extractor):
        if _duplicate(record, importer, report, seen):
            pass
        elif record.errors:
            report.refuse(record.errors)
        else:
            chunk.append(record)
            if len(chunk) >= CHUNK:
                run_chunk()
    run_chunk()
    flush(importer, report, job)
    importer.finish()
    for (name, value), count in extractor.unmapped.items():
        report.unmapped[name][value] += count
    return report


def clean_records(
    mapping: Mapping, input_path: Path, report: Report, extractor: Extractor
) -> Iterator[tuple[SourceRecord, CanonicalRecord]]:
    """The records of `input_path` that read and map cleanly, each with what was read, for a
    reader that compares rather than imports (the reconciliations): unreadable rows, filtered
    records and records with mapping errors are counted and reported (with their line) and not
    yielded; a fatal read problem ends the file."""
    for item, record in mapped_records(mapping, input_path, report, extractor):
        if record.errors:
            report.refuse(record.errors)
        else:
            yield item, record


def mapped_records(
    mapping: Mapping, input_path: Path, report: Report, extractor: Extractor
) -> Iterator[tuple[SourceRecord, CanonicalRecord]]:
    """Every record of `input_path` through the mapping, with what was read, errors and all
    (the import loop and clean_records decide about those): unreadable rows are reported with
    their line and counted refused, filtered records counted; a fatal read problem ends the
    file."""
    for item in read_records(input_path, mapping.format, csv_columns(mapping)):
        if isinstance(item, ReadProblem):
            report.error(RowError(item.line, item.code, detail=item.detail))
            if item.fatal:
                report.fatal = True
                return
            report.refused += 1
            continue
        report.rows_read += item.rows
        report.records += 1
        record = extractor.extract(item)
        if record.skipped:
            report.filtered += 1
        else:
            yield item, record


def _duplicate(record: CanonicalRecord, importer: Importer, report: Report, seen: set[str]) -> bool:
    """Seen earlier in the file (even if refused there): report it. A record whose key fields
    did not map has no key and is a duplicate of nothing."""
    try:
        key = importer.key(record)[:200]
    except KeyError:
        return False
    if not key.strip("/"):
        return False
    if key in seen:
        report.duplicates_in_file += 1
        error = importer.err(
            record, "duplicate_in_file", "source_id", "seen earlier in the file", key
        )
        report.refuse([error])
        return True
    seen.add(key)
    return False


def _one(
    record: CanonicalRecord,
    key: str,
    previous: ImportedRecord | None,
    importer: Importer,
    report: Report,
    *,
    writes: bool,
    update_changed: bool,
    job: ImportJob | None,
) -> None:
    digest = checksum(record)
    if previous is not None:
        report.duplicates_in_db += 1
        if previous.checksum == digest:
            report.unchanged += 1
            return
        if not (update_changed and importer.can_update):
            report.refuse(
                [
                    importer.err(
                        record,
                        "changed_in_source",
                        "source_id",
                        f"imported before as {previous.target_type} {previous.target_id}; "
                        "the source row has changed since",
                        key,
                    )
                ]
            )
            return
        errors = importer.check(record)
        if errors:
            report.refuse(errors)
            return
        if writes:
            with transaction.atomic():
                importer.update(record, previous.target_id)
                ImportedRecord.objects.filter(pk=previous.pk).update(checksum=digest, job=job)
        report.updated += 1
        return
    clash = importer.conflict(record)
    if clash is not None:
        report.duplicates_in_db += 1
        report.refuse([clash])
        return
    errors = importer.check(record)
    if errors:
        report.refuse(errors)
        return
    if not writes:
        report.created += 1
        return
    pending = importer.pending
    pending.append(Pending(record, key, digest))
    if len(pending) >= importer.batch_size:
        flush(importer, report, job)


@dataclass(frozen=True)
class Pending:
    record: CanonicalRecord
    key: str
    digest: str


def flush(importer: Importer, report: Report, job: ImportJob | None) -> None:
    """Write the checked records waiting in `importer.pending`: a batch in one transaction
    (the importer's create_many), or, when the batch is refused, its parts of RETRY_SPLIT on
    their own, and a refused part record by record, so that one bad record leaves the others
    written and is reported with its code."""
    batch = list(importer.pending)
    importer.pending.clear()
    _write_batch(importer, report, job, batch)


# A refused batch is written again in parts of this many, then a refused part one by one.
RETRY_SPLIT = 100


def _write_batch(
    importer: Importer, report: Report, job: ImportJob | None, batch: list["Pending"]
) -> None:
    if not batch:
        return
    if len(batch) > 1:
        try:
            with transaction.atomic():
                _relaxed_commit()
                targets = importer.create_many([p.record for p in batch])
                _remember(importer, batch, targets, job)
        except DomainError:
            importer.rolled_back()  # one of them is refused: find which, below
        else:
            report.created += len(batch)
            return
    if len(batch) > RETRY_SPLIT:
        for start in range(0, len(batch), RETRY_SPLIT):
            _write_batch(importer, report, job, batch[start : start + RETRY_SPLIT])
        return
    for one in batch:
        try:
            with transaction.atomic():
                _relaxed_commit()
                targets = importer.create_many([one.record])
                _remember(importer, [one], targets, job)
        except DomainError as exc:
            importer.rolled_back()
            fields = [e.field or "" for e in exc.errors] or [""]
            report.refuse([importer.err(one.record, exc.code, fields[0], exc.detail)])
            continue
        report.created += 1


def _relaxed_commit() -> None:
    """A batch's commit does not wait for its WAL to reach the disk (PostgreSQL
    `synchronous_commit = off` for this transaction only): after a crash the last batches may
    be missing, with their ImportedRecord rows (same transaction), so re-running the import
    writes exactly them. Never torn: the database stays consistent."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _remember(
    importer: Importer, batch: list[Pending], targets: list[str], job: ImportJob | None
) -> None:
    copy_rows(
        ImportedRecord,
        [
            {
                "source": importer.mapping.source,
                "kind": importer.mapping.kind,
                "source_id": p.key,
                "checksum": p.digest,
                "target_type": importer.target_type,
                "target_id": target[:100],
                "job_id": job.pk if job is not None else None,
            }
            for p, target in zip(batch, targets, strict=True)
        ],
    )


def report_json(report: Report) -> dict[str, Any]:
    return report.as_dict()
