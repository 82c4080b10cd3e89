"""Streaming readers: CSV with a header row (optionally grouped into one record per order),
JSON lines, and XML records by element path. Each yields `SourceRecord`s (the record's first
source line and an accessor for paths) or `ReadProblem`s; nothing reads a whole file into memory.

XML is parsed with expat (no DTD or external entity is fetched; expat ≥ 2.4 refuses entity
expansion bombs). Namespace prefixes are ignored: `NS1:Order` is `Order`.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from migration.mapping.schema import FormatSpec

LINE_KEY = "\x00line"  # where an XML element keeps its source line (never a real attribute)


class Accessor(Protocol):
    line: int

    def get(self, path: str) -> Any: ...

    def children(self, path: str | None) -> list["Accessor"]: ...


@dataclass
class SourceRecord:
    line: int
    data: Accessor
    rows: int = 1


@dataclass(frozen=True)
class ReadProblem:
    line: int | None
    code: str
    detail: str
    fatal: bool = False


# --- CSV ---------------------------------------------------------------------------------------
class CsvRow:
    def __init__(self, line: int, row: dict[str, str]) -> None:
        self.line = line
        self.row = row

    def get(self, path: str) -> Any:
        return self.row.get(path)

    def children(self, path: str | None) -> list[Accessor]:
        return []


class CsvGroup:
    """Consecutive rows of one record: record-level columns are read from its first row (an
    export such as Shopify's fills them only there); each row is a line."""

    def __init__(self, rows: list[CsvRow]) -> None:
        self.rows = rows
        self.line = rows[0].line

    def get(self, path: str) -> Any:
        return self.rows[0].get(path)

    def children(self, path: str | None) -> list[Accessor]:
        return list(self.rows)


def read_csv(
    stream: IO[str], fmt: FormatSpec, columns: set[str]
) -> Iterator[SourceRecord | ReadProblem]:
    reader = csv.reader(stream, delimiter=fmt.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        yield ReadProblem(1, "empty_file", "the file has no header row", fatal=True)
        return
    header = [h.strip() for h in header]
    missing = sorted(c for c in columns if c not in header)
    if missing:
        yield ReadProblem(1, "missing_column", f"the header lacks {', '.join(missing)}", fatal=True)
        return
    group: list[CsvRow] = []
    group_key: str | None = None
    line = reader.line_num + 1
    for values in reader:
        row_line, line = line, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield ReadProblem(
                row_line, "bad_row", f"{len(values)} values for {len(header)} columns"
            )
            continue
        row = CsvRow(row_line, dict(zip(header, values, strict=True)))
        if fmt.group_by is None:
            yield SourceRecord(row_line, row)
            continue
        key = row.row[fmt.group_by]
        if group and key != group_key:
            yield SourceRecord(group[0].line, CsvGroup(group), rows=len(group))
            group = []
        group_key = key
        group.append(row)
    if group:
        yield SourceRecord(group[0].line, CsvGroup(group), rows=len(group))


# --- JSON lines ---------------------------------------------------------------------------------
class JsonAccessor:
    def __init__(self, line: int, value: Any) -> None:
        self.line = line
        self.value = value

    def get(self, path: str) -> Any:
        return _json_path(self.value, path.split(".")) if path != "." else self.value

    def children(self, path: str | None) -> list[Accessor]:
        found = self.get(path) if path else None
        if not isinstance(found, list):
            return []
        return [JsonAccessor(self.line, item) for item in found]


def _json_path(value: Any, parts: list[str]) -> Any:
    for index, part in enumerate(parts):
        if part.endswith("[]"):
            items = value.get(part[:-2]) if isinstance(value, dict) else None
            if not isinstance(items, list):
                return None
            rest = parts[index + 1 :]
            return [v for v in (_json_path(item, rest) for item in items) if v is not None]
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def read_jsonl(stream: IO[str]) -> Iterator[SourceRecord | ReadProblem]:
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            yield ReadProblem(number, "bad_json", f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield ReadProblem(number, "bad_json", "a line is not a JSON object")
            continue
        yield SourceRecord(number, JsonAccessor(number, value))


# --- XML ----------------------------------------------------------------------------------------
def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class XmlAccessor:
    def __init__(self, element: Element) -> None:
        self.element = element
        self.line = int(element.attrib.get(LINE_KEY, 0))

    def get(self, path: str) -> Any:
        parts = [p for p in path.split("/") if p and p != "."]
        attribute = parts.pop()[1:] if parts and parts[-1].startswith("@") else None
        nodes = [self.element]
        for part in parts:
            nodes = [child for node in nodes for child in node if child.tag == part]
        if not nodes:
            return None
        node = nodes[0]
        if attribute is not None:
            return node.attrib.get(attribute)
        return (node.text or "").strip() if node.text is not None else ""

    def children(self, path: str | None) -> list[Accessor]:
        nodes = [self.element]
        for part in (path or "").split("/"):
            if part and part != ".":
                nodes = [child for node in nodes for child in node if child.tag == part]
        return [XmlAccessor(node) for node in nodes]


def read_xml(stream: IO[bytes], fmt: FormatSpec) -> Iterator[SourceRecord | ReadProblem]:
    record_path = [p for p in (fmt.record or "").split("/") if p]
    offset = 0
    first = stream.readline()
    if fmt.skip_php_echo and first.lstrip().startswith(b"<?="):
        offset, first = 1, b""
    parser = expat.ParserCreate()
    ready: list[Element] = []
    stack: list[str] = []
    builders: list[TreeBuilder] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        stack.append(_local(name))
        if not builders and stack[-len(record_path) :] == record_path:
            builders.append(TreeBuilder())
        if builders:
            attributes = {_local(k): v for k, v in attrs.items() if not k.startswith("xmlns")}
            attributes[LINE_KEY] = str(parser.CurrentLineNumber + offset)
            builders[0].start(_local(name), attributes)

    def end(name: str) -> None:
        if builders:
            builders[0].end(_local(name))
            if stack[-len(record_path) :] == record_path and len(stack) == _depth[0]:
                ready.append(builders.pop().close())
        stack.pop()

    def data(text: str) -> None:
        if builders:
            builders[0].data(text)

    _depth = [0]

    def start_with_depth(name: str, attrs: dict[str, str]) -> None:
        opening = not builders
        start(name, attrs)
        if opening and builders:
            _depth[0] = len(stack)

    parser.StartElementHandler = start_with_depth
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.buffer_text = True
    chunk = first
    try:
        while True:
            parser.Parse(chunk, False)
            for element in ready:
                yield SourceRecord(int(element.attrib[LINE_KEY]), XmlAccessor(element))
            ready.clear()
            chunk = stream.read(65536)
            if not chunk:
                break
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        yield ReadProblem(
            (exc.lineno or 0) + offset,
            "bad_xml",
            f"not well-formed XML: {expat.errors.messages[exc.code]}",
            fatal=True,
        )
        return
    for element in ready:
        yield SourceRecord(int(element.attrib[LINE_KEY]), XmlAccessor(element))


def read_records(
    path: Path, fmt: FormatSpec, columns: set[str]
) -> Iterator[SourceRecord | ReadProblem]:
    """Records of `path` as the mapping's format says. `columns`: what a CSV header must have."""
    if fmt.type == "xml":
        with path.open("rb") as binary:
            yield from read_xml(binary, fmt)
        return
    with path.open(encoding=fmt.encoding, newline="", errors="strict") as text:
        try:
            if fmt.type == "csv":
                yield from read_csv(text, fmt, columns)
            else:
                yield from read_jsonl(text)
        except UnicodeDecodeError as exc:
            yield ReadProblem(None, "bad_encoding", f"not {fmt.encoding}: {exc.reason}", fatal=True)
