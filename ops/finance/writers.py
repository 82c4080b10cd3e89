"""Streaming writers: rows go out as they come, so memory stays flat whatever the row count.

CSV is a generator of text chunks (for a StreamingHttpResponse or a file). XLSX uses
openpyxl's write-only workbook, which writes each row to a temporary XML part as it is
appended instead of keeping cells in memory (openpyxl docs, "Write-only mode"); the zip is
assembled at save. openpyxl rather than django-import-export: import-export builds a tablib
Dataset of every row in memory before writing, which a 1M-row export cannot afford.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ops.finance.cells import csv_text, neutralise

Progress = Callable[[int], None]
PROGRESS_EVERY = 5_000


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, progress: Progress | None = None
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
        count += 1
        if count % 1_000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
    yield buffer.getvalue()
    if progress is not None:
        progress(count)


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    progress: Progress | None = None,
) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in csv_chunks(header, rows, progress=progress):
            out.write(chunk)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value  # Excel has no zones: UTC
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number
    return neutralise(value)


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "export",
    progress: Progress | None = None,
) -> None:
    from openpyxl import Workbook  # noqa: PLC0415 - only exports load it

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.append([neutralise(h) for h in header])
    count = 0
    for row in rows:
        worksheet.append([_xlsx_value(value) for value in row])
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    workbook.save(str(path))
    if progress is not None:
        progress(count)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
