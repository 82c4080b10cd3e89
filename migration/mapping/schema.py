"""The schema of a mapping file, and `load_mapping()`, which reports every error with its path
in the file and its line.

A mapping says where the records are (`format`), what they are (`kind`), where each canonical
field comes from (`fields`, and `lines` for an order's lines), and how source values become oms
values (`maps`). docs/migration.md is the reference; migration/mappings/ holds the shipped ones.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

KINDS = (
    "products",
    "nodes",
    "stock",
    "orders",
    "status_codes",
    "allocations",
    "shipments",
    "cancellations",
)
# Kinds a real run writes; the others (status codes) are read, checked, reported.
WRITING_KINDS = (
    "products",
    "nodes",
    "stock",
    "orders",
    "allocations",
    "shipments",
    "cancellations",
)

# Canonical fields per kind: name -> required. `source_id` is the record's id in the source
# system; with the mapping's `source` it makes an import idempotent.
HEADER_FIELDS: dict[str, dict[str, bool]] = {
    "products": {
        "source_id": False,
        "sku": True,
        "name": True,
        "weight_grams": False,
        "upc": False,
        "aliases": False,
        "is_active": False,
    },
    "nodes": {
        "source_id": False,
        "code": True,
        "name": True,
        "kind": True,
        "address_line1": False,
        "address_line2": False,
        "city": False,
        "region": False,
        "postal_code": False,
        "country": False,
        "latitude": False,
        "longitude": False,
        "capabilities": False,
        "timezone": False,
        "is_active": False,
    },
    "stock": {
        "source_id": False,
        "node": True,
        "sku": True,
        "on_hand": True,
        "safety_stock": False,
        "as_of": False,
        "product_name": False,
    },
    "orders": {
        "source_id": True,
        "document_type": False,
        "channel": True,
        "placed_at": True,
        "currency": True,
        "status": True,
        "payment_status": False,
        "payment_method": False,
        "customer_name": True,
        "customer_email": False,
        "customer_phone": False,
        "delivery_method": False,
        "pickup_node": False,
        "ship_name": False,
        "ship_line1": False,
        "ship_line2": False,
        "ship_city": False,
        "ship_region": False,
        "ship_postal_code": False,
        "ship_country": False,
        "ship_node": False,
        "shipping_total": False,
        "tax_total": False,
        "discount_total": False,
        "grand_total": False,
        "shipped_at": False,
        "delivered_at": False,
        "cancelled_at": False,
        "carrier": False,
        "service": False,
        "tracking_number": False,
        "notes": False,
        "hold": False,
        "hold_reason": False,
    },
    "status_codes": {"source_id": False, "code": True, "name": True, "process": False},
    # a legacy status feed during dual running: compared with oms's order statuses by
    # `reconcile_inventory` (migration/services/status_reconciliation.py), never imported
    "order_statuses": {
        "source_id": False,
        "order_id": True,
        "channel": True,
        "status": True,
        "updated_at": False,
    },
    "allocations": {"source_id": True, "order_id": True, "node": True},
    "shipments": {
        "source_id": False,
        "order_id": True,
        "node": False,
        "tracking_number": True,
        "carrier": False,
        "shipped_at": False,
    },
    "cancellations": {"source_id": False, "order_key": True, "node": False},
}
LINE_FIELDS: dict[str, dict[str, bool]] = {
    "orders": {
        "line_id": False,
        "sku": True,
        "name": False,
        "quantity": True,
        "unit_price": True,
        "discount": False,
        "tax": False,
        "status": False,
        "ship_node": False,
        "is_adjustment": False,
        "product_name": False,
    },
    "allocations": {"line_id": True, "sku": False, "quantity": True, "status": False},
    "shipments": {"line_id": True, "quantity": True},
    "cancellations": {"line_id": True, "action": True, "quantity_change": True},
}

SIMPLE_TRANSFORMS = {"trim", "upper", "lower", "int", "decimal", "slug", "bool"}
ARG_TRANSFORMS = {"parse_date", "money", "slice", "const", "split_name", "replace", "split"}
# Kinds whose records must have at least one line.
LINES_REQUIRED = ("orders", "cancellations")


class FieldSpec(BaseModel):
    """Where one canonical field comes from. `from` is a column (CSV), a dotted path (JSON:
    `address.postalOrZipCode`, `fulfillmentTypes[].code` for a list) or an XML path
    (`PriceInfo/@Currency`, `Customer/ShipTo/Name` for an element's text); a list of them is
    joined with `join`. `value` is a constant. Transforms run in order on a non-empty value,
    then `map` (a value map's name). An empty result falls back to `fallback`, then `default`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | list[str] | None = Field(default=None, alias="from")
    join: str = " "
    value: Any = None
    transforms: list[str | dict[str, Any]] = Field(default_factory=list)
    map: str | None = None
    pick: Literal["all", "first"] = "all"
    fallback: "FieldSpec | None" = None
    default: Any = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"from": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check(self) -> "FieldSpec":
        if self.from_ is None and self.value is None and self.default is None:
            raise ValueError("a field needs `from`, `value` or `default`")
        for transform in self.transforms:
            if isinstance(transform, str):
                if transform not in SIMPLE_TRANSFORMS:
                    raise ValueError(
                        f"unknown transform {transform!r} (known: "
                        f"{', '.join(sorted(SIMPLE_TRANSFORMS | ARG_TRANSFORMS))})"
                    )
                continue
            if len(transform) != 1:
                raise ValueError(f"a transform with arguments has one key, not {list(transform)}")
            [(name, args)] = transform.items()
            if name not in ARG_TRANSFORMS:
                raise ValueError(f"unknown transform {name!r}")
            _check_transform_args(name, args)
        return self


def _check_transform_args(name: str, args: Any) -> None:
    if name == "parse_date":
        if not isinstance(args, dict) or "format" not in args:
            raise ValueError("parse_date needs {format: '%Y-%m-%d ...' or iso, tz: Area/City}")
        if set(args) - {"format", "tz"}:
            raise ValueError(f"parse_date takes format and tz, not {sorted(set(args))}")
    elif name == "money":
        if not isinstance(args, dict) or args.get("units") not in ("major", "minor"):
            raise ValueError("money needs {units: major} or {units: minor}")
    elif name == "slice":
        if not (isinstance(args, list) and len(args) == 2):
            raise ValueError("slice needs [start, end]")
    elif name == "split_name":
        if args not in ("first", "last"):
            raise ValueError("split_name is first or last")
    elif name == "split" and not (isinstance(args, str) and args):
        raise ValueError("split needs the separator, e.g. {split: '|'}")
    elif name == "replace" and not isinstance(args, dict):
        raise ValueError("replace needs {old: new, ...}")


class MapSpec(BaseModel):
    """A value map: source value -> oms value. A value may be `{refuse: code}`. An unlisted
    value takes `default`; without one (or with `default: refuse`) it is refused; with
    `default: keep` it stays as it is (alias tables); `default: null` drops it (lists)."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any]
    default: Any = "refuse"
    case_insensitive: bool = True


class FormatSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["csv", "jsonl", "xml"]
    # csv
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    group_by: str | None = Field(
        default=None, description="CSV: consecutive rows with the same value form one record."
    )
    # xml
    record: str | None = Field(
        default=None, description="XML: the records' element path from the root, e.g. Orders/Order."
    )
    skip_php_echo: bool = Field(
        default=False, description="XML: drop a first line `<?= ... ?>` (exported views)."
    )

    @model_validator(mode="after")
    def _check(self) -> "FormatSpec":
        if self.type == "xml" and not self.record:
            raise ValueError("an xml source needs `record`, the path of its repeating element")
        if self.type != "csv" and self.group_by:
            raise ValueError("group_by is for csv sources")
        return self


class LinesSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None,
        description="Where the lines are: XML/JSON path; for a grouped CSV, each row is a line.",
    )
    fields: dict[str, FieldSpec]


class Where(BaseModel):
    """Keep only records whose canonical field is in `in` (the others are counted skipped)."""

    model_config = ConfigDict(extra="forbid")

    field: str
    in_: list[str] = Field(alias="in")


class CheckMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: str
    map: str


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    create_missing_products: bool = Field(
        default=False, description="Create a product for an unknown SKU (named by product_name)."
    )
    totals: Literal["refuse", "warn"] = Field(
        default="refuse",
        description="Orders whose lines, shipping, tax and discount do not add up to the header "
        "total: refuse them, or import them with their lines' total and report a warning.",
    )
    check_map: CheckMap | None = Field(
        default=None, description="status_codes: report the codes this other mapping's map misses."
    )


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    name: str
    description: str = ""
    source: str = Field(pattern=r"^[a-z0-9][a-z0-9_.:-]*$", max_length=50)
    kind: Literal[
        "products",
        "nodes",
        "stock",
        "orders",
        "status_codes",
        "order_statuses",
        "allocations",
        "shipments",
        "cancellations",
    ]
    format: FormatSpec
    fields: dict[str, FieldSpec]
    lines: LinesSpec | None = None
    maps: dict[str, MapSpec] = Field(default_factory=dict)
    where: list[Where] = Field(default_factory=list)
    options: Options = Field(default_factory=Options)

    @model_validator(mode="after")
    def _check(self) -> "Mapping":
        problems: list[tuple[tuple[str | int, ...], str]] = []
        known = HEADER_FIELDS[self.kind]
        for name in self.fields:
            if name not in known:
                problems.append((("fields", name), f"{self.kind} have no field {name!r}"))
        for name, required in known.items():
            if required and name not in self.fields:
                problems.append((("fields",), f"{self.kind} need the field {name!r}"))
        line_fields = LINE_FIELDS.get(self.kind)
        if line_fields is None and self.lines is not None:
            problems.append((("lines",), f"{self.kind} have no lines"))
        if line_fields is not None:
            if self.lines is None and self.kind in LINES_REQUIRED:
                problems.append(((), f"{self.kind} need `lines`"))
            elif self.lines is None:
                pass
            else:
                for name in self.lines.fields:
                    if name not in line_fields:
                        problems.append((("lines", "fields", name), f"lines have no {name!r}"))
                for name, required in line_fields.items():
                    if required and name not in self.lines.fields:
                        problems.append((("lines", "fields"), f"lines need the field {name!r}"))
                if self.lines.path is None and not self.format.group_by:
                    problems.append(
                        (("lines",), "lines need a `path` (or a csv `group_by`, one row a line)")
                    )
        specs = list(self.fields.items()) + list(self.lines.fields.items() if self.lines else [])
        for name, spec in specs:
            current: FieldSpec | None = spec
            while current is not None:
                if current.map is not None and current.map not in self.maps:
                    problems.append((("fields", name, "map"), f"no map named {current.map!r}"))
                current = current.fallback
        for index, where in enumerate(self.where):
            if where.field not in self.fields:
                problems.append((("where", index, "field"), f"{where.field!r} is not mapped"))
        if problems:
            raise MappingProblems(problems)
        return self


class MappingProblems(ValueError):
    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "?"
        return f"{where}: {self.path or '(top)'}: {self.message}"


class MappingError(Exception):
    """A mapping file that cannot be used; `problems` has each error's path and line."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}:\n" + "\n".join(f"  {p}" for p in problems))


def load_mapping(path: Path | str) -> Mapping:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    return parse_mapping(text, file=str(path))


def parse_mapping(text: str, *, file: str = "<mapping>") -> Mapping:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise MappingError(file, [Problem("", line, f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise MappingError(file, [Problem("", 1, "a mapping file is a YAML mapping (key: value)")])
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            context = error.get("ctx", {}).get("error")
            if isinstance(context, MappingProblems):
                for loc, message in context.problems:
                    problems.append(Problem(_dotted(loc), _line_of(root, loc), message))
                continue
            loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(Problem(_dotted(loc), _line_of(root, loc), message))
        raise MappingError(file, problems) from None


def _is_union_tag(part: str | int) -> bool:
    # pydantic names the union member it tried ("str", "list[str]", "function-before[...]").
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "dict", "list"})


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(root: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The line of the deepest YAML node along `loc` (1-based)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            key = "from" if part == "from_" else ("in" if part == "in_" else part)
            found = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == key
                ),
                None,
            )
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
