"""`manage.py import_inventory`: apply a node's CSV count (snapshot) or deltas (adjustment).

    import_inventory --node dc-columbus --kind snapshot --as-of 2026-11-20T06:00:00Z counts.csv
    import_inventory --node dc-columbus --kind adjustment --message-id ADJ-17 adjustments.csv

Snapshot files have the columns `sku,on_hand` and are a FULL count (unlisted SKUs of the node
become 0); adjustment files have `sku,delta,reason`. Row 1 is the header. If any row is bad,
every error is reported with its row number and nothing is applied.
"""

import csv
import hashlib
import re
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from inventory.exceptions import InventoryErrorCode
from inventory.models import FeedKind
from inventory.services.feed_messages import FeedResult
from inventory.services.feeds import apply_adjustment, apply_snapshot, build_snapshot_counts
from oms.core.actors import Actor
from oms.core.errors import DomainError, FieldError

COLUMNS = {FeedKind.SNAPSHOT: ["sku", "on_hand"], FeedKind.ADJUSTMENT: ["sku", "delta", "reason"]}
FIRST_DATA_ROW = 2  # row 1 is the header
_LINE_FIELD = re.compile(r"^(?:counts|lines)\[(\d+)\]")


class RowError(Exception):
    def __init__(self, row: int | None, code: str, detail: str) -> None:
        super().__init__(detail)
        self.row, self.code, self.detail = row, code, detail


class Command(BaseCommand):
    _row_numbers: list[int]
    help = (
        "Apply a node's inventory file: a full count (snapshot: sku,on_hand) or deltas "
        "(adjustment: sku,delta,reason). All rows or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file with a header row.")
        parser.add_argument("--node", required=True, help="Node code, e.g. dc-columbus.")
        parser.add_argument("--kind", required=True, choices=[k.value for k in FeedKind])
        parser.add_argument("--as-of", help="ISO 8601 time of the count (snapshot only).")
        parser.add_argument(
            "--message-id",
            help="Unique id of this file (default: a hash of its content, so importing the "
            "same file twice applies it once).",
        )
        parser.add_argument(
            "--source",
            help="Sending system for de-duplication (default: file:<node>).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        kind = FeedKind(options["kind"])
        node = options["node"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        message_id = options["message_id"] or f"sha256:{hashlib.sha256(content).hexdigest()}"
        source = options["source"] or f"file:{node}"
        actor = Actor.system("import_inventory")
        errors: list[RowError] = []
        rows = self._parse(content, kind, errors)
        as_of = None
        if kind == FeedKind.SNAPSHOT:
            as_of = parse_datetime(options["as_of"] or "")
            if as_of is None:
                errors.insert(
                    0, RowError(None, "invalid_as_of", "--as-of must be an ISO 8601 date-time.")
                )
        if errors:
            self._refuse(errors)
        try:
            if kind == FeedKind.SNAPSHOT:
                result = apply_snapshot(
                    node_code=node,
                    as_of=as_of,  # type: ignore[arg-type]  # not None: refused above if missing
                    counts=build_snapshot_counts([(r[0], r[1]) for r in rows]),
                    source=source,
                    message_id=message_id,
                    actor=actor,
                )
            else:
                result = apply_adjustment(
                    node_code=node,
                    message_id=message_id,
                    source=source,
                    lines=[(r[0], r[1], r[2]) for r in rows],
                    actor=actor,
                )
        except DomainError as exc:
            self._refuse(
                [self._row_error(e) for e in exc.errors] or [RowError(None, exc.code, exc.detail)]
            )
        self._report(result)

    def _parse(
        self, content: bytes, kind: FeedKind, errors: list[RowError]
    ) -> list[tuple[Any, ...]]:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            errors.append(RowError(None, "not_utf8", "The file is not UTF-8 text."))
            return []
        reader = csv.reader(text.splitlines())
        header = [h.strip().lower() for h in next(reader, [])]
        wanted = COLUMNS[kind]
        if header[: len(wanted)] != wanted:
            errors.append(
                RowError(
                    1,
                    "bad_header",
                    f"Expected the columns {','.join(wanted)}; got {','.join(header)}.",
                )
            )
            return []
        rows: list[tuple[Any, ...]] = []
        for number, raw in enumerate(reader, start=FIRST_DATA_ROW):
            if not any(cell.strip() for cell in raw):
                continue  # blank line
            cells = [cell.strip() for cell in raw] + [""] * len(wanted)
            sku, amount = cells[0], cells[1]
            if not sku:
                errors.append(RowError(number, "required", "The SKU is empty."))
                continue
            try:
                value = int(amount)
            except ValueError:
                errors.append(
                    RowError(
                        number, "not_an_integer", f"{wanted[1]} {amount!r} is not a whole number."
                    )
                )
                continue
            if kind == FeedKind.SNAPSHOT and value < 0:
                errors.append(
                    RowError(
                        number,
                        InventoryErrorCode.NEGATIVE_COUNT,
                        f"A count cannot be negative ({value}).",
                    )
                )
                continue
            rows.append((sku, value, cells[2][:200], number))
        if not rows and not errors:
            errors.append(RowError(None, "empty_file", "The file has no data rows."))
        self._row_numbers = [row[3] for row in rows]
        return rows

    def _row_error(self, error: FieldError) -> RowError:
        """A service error about `counts[i]…`/`lines[i]…` → the file row it came from."""
        match = _LINE_FIELD.match(error.field or "")
        row = self._row_numbers[int(match.group(1))] if match else None
        return RowError(row, error.code, error.detail)

    def _refuse(self, errors: list[RowError]) -> NoReturn:
        for error in errors:
            where = f"row {error.row}" if error.row is not None else "file"
            self.stderr.write(f"{where}: {error.code}: {error.detail}")
        noun = "error" if len(errors) == 1 else "errors"
        raise CommandError(
            f"Nothing was applied: {len(errors)} {noun}. Fix the file and run again."
        )

    def _report(self, result: FeedResult) -> None:
        self.stdout.write(
            f"{result.kind} {result.message_id} for {result.node}: {result.status}. {result.detail}"
        )
        for change in result.changed:
            self.stdout.write(f"  {change.sku}: on hand {change.on_hand_before} → {change.on_hand}")
        for oversell in result.oversells:
            self.stdout.write(
                f"  OVERSOLD {oversell.sku}: on hand {oversell.on_hand}, reserved "
                f"{oversell.reserved}, short {oversell.shortfall}"
            )
