"""One source record -> one canonical record (a dict of oms field names), or coded errors.

Transforms run on a non-empty value in the order written; a value map runs after them. A
refused value (unmapped with no default, or mapped to `{refuse: code}`) is a row error with the
field, the raw value and the code, and is counted among the report's unmapped values.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.text import slugify

from migration.mapping.readers import Accessor, SourceRecord
from migration.mapping.schema import HEADER_FIELDS, LINE_FIELDS, LINES_REQUIRED, FieldSpec, Mapping
from oms.core.money import is_known_currency, minor_units

_TRUE = {"true", "y", "yes", "1"}
_FALSE = {"false", "n", "no", "0"}


@dataclass(frozen=True)
class RowError:
    line: int | None
    code: str
    field: str = ""
    detail: str = ""
    value: str = ""
    source_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


class Refused(Exception):
    def __init__(self, code: str, detail: str, value: Any = "") -> None:
        super().__init__(detail)
        self.code, self.detail, self.value = code, detail, "" if value is None else str(value)


@dataclass
class CanonicalRecord:
    line: int
    fields: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: bool = False
    rows: int = 1
    # What an importer's check() worked out for its write (not part of the checksum).
    plan: Any = None

    @property
    def source_id(self) -> str:
        return str(self.fields.get("source_id") or "")


# A compiled field: (the record's accessor, the record's context) -> its value, or Refused.
FieldFn = Callable[[Accessor, dict[str, Any]], Any]
# A compiled transform or map step: (value, context) -> value.
StepFn = Callable[[Any, dict[str, Any]], Any]


@dataclass
class Extractor:
    """Compiles the mapping once (every field into one function of its accessors, transforms
    and map, value maps into lookup dicts), so a record costs only the calls its fields need:
    at a million orders the per-record interpretation of the mapping was a large share."""

    mapping: Mapping
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        names = sorted(self.mapping.fields, key=lambda n: n != "currency")  # currency first
        self._header = [(n, self._field(self.mapping.fields[n], n)) for n in names]
        self._required = [n for n, req in HEADER_FIELDS[self.mapping.kind].items() if req]
        self._lines = (
            [(n, self._field(spec, f"lines.{n}")) for n, spec in self.mapping.lines.fields.items()]
            if self.mapping.lines is not None
            else None
        )
        self._line_required = [
            n for n, req in LINE_FIELDS.get(self.mapping.kind, {}).items() if req
        ]

    def extract(self, record: SourceRecord) -> CanonicalRecord:
        out = CanonicalRecord(line=record.line, fields={}, rows=record.rows)
        context: dict[str, Any] = {}
        fields = out.fields
        data = record.data
        for name, compute in self._header:
            try:
                value = compute(data, context)
            except Refused as refused:
                out.errors.append(
                    RowError(record.line, refused.code, name, refused.detail, refused.value)
                )
                continue
            fields[name] = value
            if name == "currency":
                context["currency"] = value
        for name in self._required:
            if _empty(fields.get(name)) and not _has_error(out, name):
                out.errors.append(RowError(record.line, "missing_field", name, "no value"))
        for where in self.mapping.where:
            if str(fields.get(where.field)) not in where.in_:
                out.skipped = True
                return out
        if self._lines is not None and self.mapping.lines is not None:
            for child in data.children(self.mapping.lines.path):
                line: dict[str, Any] = {"_line": child.line or record.line}
                for name, compute in self._lines:
                    try:
                        line[name] = compute(child, context)
                    except Refused as refused:
                        out.errors.append(
                            RowError(
                                line["_line"],
                                refused.code,
                                f"lines.{name}",
                                refused.detail,
                                refused.value,
                            )
                        )
                for name in self._line_required:
                    if _empty(line.get(name)) and not line.get("is_adjustment"):
                        already = any(
                            e.field == f"lines.{name}" and e.line == line["_line"]
                            for e in out.errors
                        )
                        if not already:
                            out.errors.append(
                                RowError(
                                    line["_line"], "missing_field", f"lines.{name}", "no value"
                                )
                            )
                out.lines.append(line)
            if not out.lines and self.mapping.kind in LINES_REQUIRED:
                out.errors.append(
                    RowError(record.line, "no_lines", "lines", "the record has no lines")
                )
        if out.errors:
            sid = out.source_id
            if sid:
                out.errors = [RowError(**{**e.__dict__, "source_id": sid}) for e in out.errors]
        return out

    # --- compiling ----------------------------------------------------------------------------
    def _field(self, spec: FieldSpec, name: str) -> FieldFn:
        """One function for `spec`: its source (constant, column or path, joined paths), the
        non-empty value through the steps, a list item by item (`pick`), then `fallback`, then
        `default`."""
        read = _reader(spec)
        one = self._steps(spec, name)
        fallback = self._field(spec.fallback, name) if spec.fallback is not None else None
        default = spec.default
        pick_first = spec.pick == "first"

        def compute(data: Accessor, context: dict[str, Any]) -> Any:
            raw = read(data)
            value: Any
            if isinstance(raw, list):
                items = [one(item, context) for item in raw]
                items = [item for item in items if not _empty(item)]
                value = (items[0] if items else None) if pick_first else items
            else:
                value = one(raw, context)
            if fallback is not None and _empty(value):
                value = fallback(data, context)
            if default is not None and _empty(value):
                value = default
            return value

        plain = (
            isinstance(spec.from_, str)
            and spec.value is None
            and not spec.transforms
            and spec.map is None
            and fallback is None
            and default is None
        )
        if plain:  # most columns: the value as read, empty as None
            path = str(spec.from_)

            def direct(data: Accessor, context: dict[str, Any]) -> Any:
                raw = data.get(path)
                if isinstance(raw, list):
                    return compute(data, context)
                return None if raw is None or raw == "" else raw

            return direct
        return compute

    def _steps(self, spec: FieldSpec, name: str) -> StepFn:
        """A non-empty value through the transforms (an empty result ends it as None), then
        the value map (each part of a list, what maps to empty dropped)."""
        steps = [compile_transform(t) for t in spec.transforms]
        lookup = self._map(spec.map, name) if spec.map is not None else None

        def one(raw: Any, context: dict[str, Any]) -> Any:
            if raw is None or raw == "" or raw == []:
                return None
            value = raw
            for step in steps:
                value = step(value, context)
                if value is None or value == "" or value == []:
                    return None
            if lookup is not None:
                if isinstance(value, list):  # after a split: map each part, drop empty
                    mapped = [lookup(item) for item in value]
                    return [item for item in mapped if not _empty(item)]
                value = lookup(value)
            return value

        return one

    def _map(self, map_name: str, name: str) -> Callable[[Any], Any]:
        spec = self.mapping.maps[map_name]
        fold = spec.case_insensitive
        values = {str(k).casefold(): v for k, v in spec.values.items()} if fold else spec.values
        default = spec.default
        unmapped = self.unmapped

        def lookup(value: Any) -> Any:
            key = str(value)
            if fold:
                key = key.casefold()
            if key in values:
                found = values[key]
                if isinstance(found, dict) and "refuse" in found:
                    unmapped[(name, str(value))] += 1
                    raise Refused(
                        str(found["refuse"]), f"{value!r} is refused by map {map_name}", value
                    )
                return found
            if default == "keep":  # an alias table: what is not listed stays as it is
                return value
            unmapped[(name, str(value))] += 1
            if default == "refuse":
                raise Refused("unmapped_value", f"{value!r} is not in map {map_name}", value)
            return default

        return lookup


def _reader(spec: FieldSpec) -> Callable[[Accessor], Any]:
    if spec.value is not None:
        constant = spec.value
        return lambda data: constant
    if isinstance(spec.from_, list):
        paths, join = list(spec.from_), spec.join

        def joined(data: Accessor) -> Any:
            parts = [data.get(p) for p in paths]
            return join.join(str(p).strip() for p in parts if not _empty(p)) or None

        return joined
    if spec.from_ is not None:
        path = spec.from_
        return lambda data: data.get(path)
    return lambda data: None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _has_error(record: CanonicalRecord, name: str) -> bool:
    return any(e.field == name for e in record.errors)


def apply_transform(transform: str | dict[str, Any], value: Any, context: dict[str, Any]) -> Any:
    return compile_transform(transform)(value, context)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def compile_transform(transform: str | dict[str, Any]) -> StepFn:  # noqa: C901 - one branch a transform
    """The transform as a function of (value, context), its arguments bound once."""
    args: Any
    if isinstance(transform, str):
        name, args = transform, None
    else:
        [(name, args)] = transform.items()
    if name == "trim":
        return lambda v, c: _text(v).strip()
    if name == "upper":
        return lambda v, c: _text(v).upper()
    if name == "lower":
        return lambda v, c: _text(v).lower()
    if name == "slug":
        return lambda v, c: slugify(_text(v))
    if name == "int":

        def to_int(value: Any, context: dict[str, Any]) -> Any:
            text = _text(value)
            number = _decimal(text)
            if number != number.to_integral_value():
                raise Refused("bad_number", f"{text!r} is not a whole number", text)
            return int(number)

        return to_int
    if name == "decimal":
        return lambda v, c: _decimal(_text(v))
    if name == "bool":

        def to_bool(value: Any, context: dict[str, Any]) -> Any:
            if isinstance(value, bool):
                return value
            text = _text(value)
            if text.strip().lower() in _TRUE:
                return True
            if text.strip().lower() in _FALSE:
                return False
            raise Refused("bad_boolean", f"{text!r} is not true or false", text)

        return to_bool
    if name == "split":
        return lambda v, c: [part.strip() for part in _text(v).split(args) if part.strip()]
    if name == "slice":
        return lambda v, c: _text(v)[args[0] : args[1]]
    if name == "const":
        return lambda v, c: args
    if name == "split_name":

        def split_name(value: Any, context: dict[str, Any]) -> Any:
            parts = _text(value).split()
            return (parts[0] if parts else "") if args == "first" else " ".join(parts[1:])

        return split_name
    if name == "replace":
        pairs = [(str(old), str(new)) for old, new in args.items()]

        def replace(value: Any, context: dict[str, Any]) -> Any:
            text = _text(value)
            for old, new in pairs:
                text = text.replace(old, new)
            return text

        return replace
    if name == "money":
        minor = args["units"] == "minor"

        def money(value: Any, context: dict[str, Any]) -> Any:
            amount = _decimal(_text(value))
            if minor:
                currency = context.get("currency") or ""
                if not is_known_currency(currency):
                    raise Refused("unknown_currency", "minor units need a known currency", currency)
                amount = amount.scaleb(-minor_units(currency))
            return amount

        return money
    if name == "parse_date":
        fmt, tz = args["format"], args.get("tz")
        return lambda v, c: _parse_date(_text(v).strip(), fmt, tz)

    def unknown(value: Any, context: dict[str, Any]) -> Any:
        raise Refused("unknown_transform", f"no transform {name!r}")  # the schema refuses these

    return unknown


def _decimal(text: str) -> Decimal:
    try:
        number = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise Refused("bad_number", f"{text!r} is not a number", text) from None
    if not number.is_finite():
        raise Refused("bad_number", f"{text!r} is not a number", text)
    return number


def _parse_date(text: str, fmt: str, tz: str | None) -> datetime:
    try:
        parsed = datetime.fromisoformat(text) if fmt == "iso" else datetime.strptime(text, fmt)  # noqa: DTZ007 - the zone is applied below
    except ValueError:
        raise Refused("bad_date", f"{text!r} does not match {fmt!r}", text) from None
    if parsed.tzinfo is None:
        if not tz:
            raise Refused("bad_date", f"{text!r} has no time zone and the mapping gives none", text)
        try:
            parsed = parsed.replace(tzinfo=ZoneInfo(tz))
        except ZoneInfoNotFoundError:
            raise Refused("bad_date", f"unknown time zone {tz!r}", tz) from None
    return parsed
