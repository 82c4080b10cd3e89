"""One source record -> one canonical record (a dict of oms field names), or coded errors.

Transforms run on a non-empty value in the order written; a value map runs after them. A
refused value (unmapped with no default, or mapped to `{refuse: code}`) is a row error with the
field, the raw value and the code, and is counted among the report's unmapped values.
"""

from collections import Counter
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


@dataclass
class Extractor:
    mapping: Mapping
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def extract(self, record: SourceRecord) -> CanonicalRecord:
        out = CanonicalRecord(line=record.line, fields={}, rows=record.rows)
        context: dict[str, Any] = {}
        names = sorted(self.mapping.fields, key=lambda n: n != "currency")  # currency first
        for name in names:
            try:
                value = self.value(self.mapping.fields[name], record.data, name, context)
            except Refused as refused:
                out.errors.append(
                    RowError(record.line, refused.code, name, refused.detail, refused.value)
                )
                continue
            out.fields[name] = value
            if name == "currency":
                context["currency"] = value
        for name, required in HEADER_FIELDS[self.mapping.kind].items():
            if required and _empty(out.fields.get(name)) and not _has_error(out, name):
                out.errors.append(RowError(record.line, "missing_field", name, "no value"))
        for where in self.mapping.where:
            if str(out.fields.get(where.field)) not in where.in_:
                out.skipped = True
                return out
        if self.mapping.lines is not None:
            line_required = LINE_FIELDS[self.mapping.kind]
            for child in record.data.children(self.mapping.lines.path):
                line: dict[str, Any] = {"_line": child.line or record.line}
                for name, spec in self.mapping.lines.fields.items():
                    try:
                        line[name] = self.value(spec, child, f"lines.{name}", context)
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
                for name, required in line_required.items():
                    already = any(
                        e.field == f"lines.{name}" and e.line == line["_line"] for e in out.errors
                    )
                    if (
                        required
                        and _empty(line.get(name))
                        and not line.get("is_adjustment")
                        and not already
                    ):
                        out.errors.append(
                            RowError(line["_line"], "missing_field", f"lines.{name}", "no value")
                        )
                out.lines.append(line)
            if not out.lines and self.mapping.kind in LINES_REQUIRED:
                out.errors.append(
                    RowError(record.line, "no_lines", "lines", "the record has no lines")
                )
        sid = out.source_id
        if sid:
            out.errors = [RowError(**{**e.__dict__, "source_id": sid}) for e in out.errors]
        return out

    def value(self, spec: FieldSpec, data: Accessor, name: str, context: dict[str, Any]) -> Any:
        raw: Any
        if spec.value is not None:
            raw = spec.value
        elif isinstance(spec.from_, list):
            parts = [data.get(p) for p in spec.from_]
            raw = spec.join.join(str(p).strip() for p in parts if not _empty(p)) or None
        elif spec.from_ is not None:
            raw = data.get(spec.from_)
        else:
            raw = None
        value: Any
        if isinstance(raw, list):
            items = [self._one(spec, item, name, context) for item in raw]
            items = [item for item in items if not _empty(item)]
            value = (items[0] if items else None) if spec.pick == "first" else items
        else:
            value = self._one(spec, raw, name, context)
        if _empty(value) and spec.fallback is not None:
            value = self.value(spec.fallback, data, name, context)
        if _empty(value) and spec.default is not None:
            value = spec.default
        return value

    def _one(self, spec: FieldSpec, raw: Any, name: str, context: dict[str, Any]) -> Any:
        if _empty(raw):
            return None
        value = raw
        for transform in spec.transforms:
            value = apply_transform(transform, value, context)
            if _empty(value):
                return None
        if spec.map is not None:
            if isinstance(value, list):  # after a split: map each part, drop what maps to null
                mapped = [self._map(spec.map, item, name) for item in value]
                return [item for item in mapped if not _empty(item)]
            value = self._map(spec.map, value, name)
        return value

    def _map(self, map_name: str, value: Any, name: str) -> Any:
        spec = self.mapping.maps[map_name]
        key = str(value)
        values = spec.values
        if spec.case_insensitive:
            values = {str(k).casefold(): v for k, v in values.items()}
            key = key.casefold()
        if key in values:
            found = values[key]
            if isinstance(found, dict) and "refuse" in found:
                self.unmapped[(name, str(value))] += 1
                raise Refused(
                    str(found["refuse"]), f"{value!r} is refused by map {map_name}", value
                )
            return found
        if spec.default == "keep":  # an alias table: what is not listed stays as it is
            return value
        self.unmapped[(name, str(value))] += 1
        if spec.default == "refuse":
            raise Refused("unmapped_value", f"{value!r} is not in map {map_name}", value)
        return spec.default


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _has_error(record: CanonicalRecord, name: str) -> bool:
    return any(e.field == name for e in record.errors)


def apply_transform(transform: str | dict[str, Any], value: Any, context: dict[str, Any]) -> Any:
    args: Any
    if isinstance(transform, str):
        name, args = transform, None
    else:
        [(name, args)] = transform.items()
    text = value if isinstance(value, str) else str(value)
    if name == "trim":
        return text.strip()
    if name == "upper":
        return text.upper()
    if name == "lower":
        return text.lower()
    if name == "slug":
        return slugify(text)
    if name == "int":
        number = _decimal(text)
        if number != number.to_integral_value():
            raise Refused("bad_number", f"{text!r} is not a whole number", text)
        return int(number)
    if name == "decimal":
        return _decimal(text)
    if name == "bool":
        if isinstance(value, bool):
            return value
        if text.strip().lower() in _TRUE:
            return True
        if text.strip().lower() in _FALSE:
            return False
        raise Refused("bad_boolean", f"{text!r} is not true or false", text)
    if name == "split":
        return [part.strip() for part in text.split(args) if part.strip()]
    if name == "slice":
        return text[args[0] : args[1]]
    if name == "const":
        return args
    if name == "split_name":
        parts = text.split()
        return (parts[0] if parts else "") if args == "first" else " ".join(parts[1:])
    if name == "replace":
        for old, new in args.items():
            text = text.replace(str(old), str(new))
        return text
    if name == "money":
        amount = _decimal(text)
        if args["units"] == "minor":
            currency = context.get("currency") or ""
            if not is_known_currency(currency):
                raise Refused("unknown_currency", "minor units need a known currency", currency)
            amount = amount.scaleb(-minor_units(currency))
        return amount
    if name == "parse_date":
        return _parse_date(text.strip(), args["format"], args.get("tz"))
    raise Refused("unknown_transform", f"no transform {name!r}")  # the schema refuses these


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
