from typing import TypeVar

from django.db import connections, models, router
from django.db.models import sql
from django.db.models.constants import OnConflict

M = TypeVar("M", bound=models.Model)


def unique_or_none(queryset: "models.QuerySet[M]") -> M | None:
    """The row a unique-key filter matches, or None.

    Unlike `.first()`, this drops the model's default ordering: a lookup by a unique key must
    use that key's index, and an inherited `ORDER BY placed_at DESC` can lead PostgreSQL (with
    stale statistics) to walk a far larger index instead.
    """
    return next(iter(queryset.order_by()[:1]), None)


def insert_unless_conflict(obj: models.Model) -> bool:
    """INSERT `obj` unless a unique constraint already holds a conflicting row: True (and `obj`
    saved, its primary key set) if the row went in, False if it did not.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING <pk>` on PostgreSQL (`INSERT OR IGNORE` on
    SQLite). Like a plain INSERT it waits for a concurrent transaction writing the same key and
    sees the outcome; unlike one it raises nothing on a conflict, so the caller's transaction
    stays usable without a savepoint (two round trips fewer). Other violations (check, foreign
    key) still raise IntegrityError. Like `bulk_create`, no pre_save/post_save signals: use it
    only for models nothing listens to."""
    meta = obj._meta
    using = router.db_for_write(type(obj), instance=obj)
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover
        raise NotImplementedError(f"{connection.vendor} cannot return columns from INSERT")
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    returning = meta.db_returning_fields
    query = sql.InsertQuery(type(obj), on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = returning
    [(statement, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    for value, field in zip(row, returning, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return True
