"""Run an orders mapping backwards: canonical orders → the legacy system's own CSV format.

Used to hand orders to the legacy system (migration/services/handoff.py). Only what a mapping
can say unambiguously is reversed: a CSV mapping with `group_by` (one row per line), fields read
from one column, the transforms trim/upper/lower/slug/int/decimal/money/parse_date (their
inverse: the value as is, minor units times the currency's exponent, the date formatted in the
mapping's zone) and value maps (the first source value that maps to the oms value). Constant
fields (`value:`) are the mapping's own knowledge and are not written. Anything else is
refused with `NotReversible`, naming the field: better no file than a wrong one.
"""

import csv
import io
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from migration.mapping.schema import FieldSpec, Mapping
from oms.core.money import minor_units

_AS_IS = {"trim", "upper", "lower", "slug", "int", "decimal"}


class NotReversible(ValueError):
    pass


def render_orders_csv(mapping: Mapping, orders: Sequence[AnyMapping[str, Any]]) -> str:
    """`orders`: canonical order dicts, each with `lines` (canonical line dicts)."""
    if mapping.kind != "orders" or mapping.format.type != "csv" or not mapping.format.group_by:
        raise NotReversible(f"{mapping.name}: only a grouped CSV orders mapping can be reversed")
    if mapping.lines is None:
        raise NotReversible(f"{mapping.name}: the mapping has no lines")
    header_columns = _columns(mapping.fields)
    line_columns = _columns(mapping.lines.fields)
    columns = list(dict.fromkeys([*header_columns.values(), *line_columns.values()]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=mapping.format.delimiter)
    writer.writeheader()
    for order in orders:
        currency = str(order.get("currency", ""))
        header = _row(mapping, mapping.fields, header_columns, order, currency)
        for line in order["lines"]:
            writer.writerow(
                {**header, **_row(mapping, mapping.lines.fields, line_columns, line, currency)}
            )
    return out.getvalue()


def _columns(fields: dict[str, FieldSpec]) -> dict[str, str]:
    """canonical field → the column it is read from (constants and fallbacks skipped)."""
    columns: dict[str, str] = {}
    for name, spec in fields.items():
        if spec.from_ is None:
            continue
        if not isinstance(spec.from_, str):
            raise NotReversible(f"fields.{name}: joined from several columns")
        columns[name] = spec.from_
    return columns


def _row(
    mapping: Mapping,
    fields: dict[str, FieldSpec],
    columns: dict[str, str],
    record: AnyMapping[str, Any],
    currency: str,
) -> dict[str, str]:
    row: dict[str, str] = {}
    for name, column in columns.items():
        value = record.get(name)
        if value is None or value == "":
            row.setdefault(column, "")
            continue
        row[column] = _backwards(mapping, name, fields[name], value, currency)
    return row


def _backwards(mapping: Mapping, name: str, spec: FieldSpec, value: Any, currency: str) -> str:
    if spec.map is not None:
        value = _unmap(mapping, name, spec.map, value)
    for transform in reversed(spec.transforms):
        if isinstance(transform, str):
            if transform not in _AS_IS:
                raise NotReversible(f"fields.{name}: transform {transform!r}")
            if transform == "upper":
                value = str(value).upper()
            continue
        [(kind, args)] = transform.items()
        if kind == "money":
            amount = Decimal(value)
            if args["units"] == "minor":
                amount = amount.scaleb(minor_units(currency)).quantize(Decimal("1"))
            value = amount
        elif kind == "parse_date":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            if args.get("tz"):
                moment = moment.astimezone(ZoneInfo(args["tz"]))
            value = (
                moment.isoformat() if args["format"] == "iso" else moment.strftime(args["format"])
            )
        else:
            raise NotReversible(f"fields.{name}: transform {kind!r}")
    return str(value)


def _unmap(mapping: Mapping, name: str, map_name: str, value: Any) -> str:
    spec = mapping.maps[map_name]
    for source, target in spec.values.items():
        if not isinstance(target, dict) and target == value:
            return source
    if spec.default == "keep":
        return str(value)
    raise NotReversible(f"fields.{name}: no {map_name} value maps to {value!r}")
