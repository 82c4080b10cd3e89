"""copy_rows(): thousands of rows of one model in one COPY, for imported history (migration/).

`bulk_create()` builds a model instance per row and runs every value through its field's
`get_db_prep_save()`; at a million legacy orders (several rows each) that Python work is most of
an import's time. Here a row is a dict of attribute names to values already of the column's
Python type (str, int, Decimal, aware datetime, UUID, dict for JSON). On PostgreSQL the ids are
drawn from the table's sequence in one query and the rows go in through one `COPY ... FROM
STDIN` (psycopg 3 `cursor.copy()`, binary C writer): no instance, no per-value field call, no
SQL text to build. Elsewhere (SQLite for `make run`) it falls back to `bulk_create()`.

Missing attributes take the field's default (a callable default such as uuid4 is called per
row; `auto_now`/`auto_now_add` fields take one `now` for the call). Nothing runs on save: no
signal, no `save()` override, exactly like bulk_create. A unique or foreign-key violation raises
django.db.IntegrityError, as bulk_create does.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, models
from django.utils import timezone

# A column's value for a row that does not give it: (constant, per-row factory or None).
_Default = tuple[Any, Callable[[], Any] | None]


@dataclass(frozen=True)
class _Column:
    attname: str
    column: str
    default: _Default
    is_json: bool
    encoder: Any
    auto_now: bool


@cache
def _columns(model: type[models.Model]) -> tuple[_Column, ...]:
    out = []
    for field in model._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.GeneratedField):
            continue
        factory = field.default if field.has_default() and callable(field.default) else None
        constant = None if factory is not None else field.get_default()
        out.append(
            _Column(
                attname=field.attname,
                column=str(field.column),
                default=(constant, factory),
                is_json=isinstance(field, models.JSONField),
                encoder=getattr(field, "encoder", None),
                auto_now=bool(getattr(field, "auto_now", False))
                or bool(getattr(field, "auto_now_add", False)),
            )
        )
    return tuple(out)


def copy_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, using: str = "default"
) -> list[int]:
    """Insert `rows` (attribute name -> value) and return their new primary keys, in order."""
    if not rows:
        return []
    connection = connections[using]
    if connection.vendor != "postgresql":
        created = model._default_manager.using(using).bulk_create([model(**r) for r in rows])
        return [obj.pk for obj in created]
    table = model._meta.db_table
    pk_column = str(model._meta.pk.column)
    now = timezone.now()
    # Plain columns (a value or one constant default) first, read with dict.get in one
    # comprehension; then the few that need a call per row (JSON, a callable default).
    plain, special = [], []
    for column in _columns(model):
        constant, factory = column.default
        if column.auto_now:
            constant, factory = now, None
        if column.is_json or factory is not None:
            special.append((column, _getter(column, constant, factory)))
        else:
            plain.append((column, constant))
    quote = connection.ops.quote_name
    ordered = [pk_column, *(c.column for c, _ in plain), *(c.column for c, _ in special)]
    names = ", ".join(quote(c) for c in ordered)
    sql = f"COPY {quote(table)} ({names}) FROM STDIN"
    plain_items = [(column.attname, constant) for column, constant in plain]
    special_getters = [get for _, get in special]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for pk, row in zip(ids, rows, strict=True):
                get = row.get
                write(
                    [
                        pk,
                        *[get(name, constant) for name, constant in plain_items],
                        *[special_get(row) for special_get in special_getters],
                    ]
                )
    return ids


def _getter(
    column: _Column, constant: Any, factory: Callable[[], Any] | None
) -> Callable[[dict[str, Any]], Any]:
    name = column.attname
    if column.is_json:
        encoder = column.encoder

        def json_value(row: dict[str, Any]) -> Any:
            value = row[name] if name in row else (factory() if factory else constant)
            return json.dumps(value, cls=encoder)

        return json_value
    if factory is None:
        raise ValueError(f"{name}: a plain column needs no getter")
    return lambda row: row[name] if name in row else factory()
