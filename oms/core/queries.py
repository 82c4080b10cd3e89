import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connections, models, router
from django.db.models import sql
from django.db.models.constants import OnConflict
from django.db.models.query import get_related_populators

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

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
    return _insert([obj], ignore_conflicts=True) == 1


def insert_rows(objs: "list[M]") -> "list[M]":
    """`bulk_create(objs)` for the hot paths (order capture, the event log): one INSERT with
    every row, the returned columns (the primary key) set on each object, and the statement's
    text built once per model and row count instead of by Django's query compiler on every call
    (a third of a 3-line capture's ORM time). The rows are the same as bulk_create's: each
    field's pre_save (auto_now timestamps) and get_db_prep_save, in the model's column order.
    Falls back to bulk_create where that shortcut does not hold (an expression as a value, a
    field with its own placeholder or a database default). No signals, like bulk_create."""
    if objs:
        _insert(objs, ignore_conflicts=False)
    return objs


_STATEMENTS: dict[tuple[type, str, int, bool], tuple[str, list, list]] = {}


def _plan(
    model: type[models.Model], connection: "BaseDatabaseWrapper", rows: int, ignore: bool
) -> tuple[str, list, list] | None:
    key = (model, connection.alias, rows, ignore)
    plan = _STATEMENTS.get(key)
    if plan is not None:
        return plan
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    if any(hasattr(f, "get_placeholder") or f.has_db_default() for f in fields):
        return None
    if connection.vendor != "postgresql":
        return None
    returning = list(meta.db_returning_fields)
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(qn(str(f.column)) for f in fields)
    returned = ", ".join(qn(str(f.column)) for f in returning)
    # Identifiers only, from the model's options, each quoted; the values go as parameters.
    statement = (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
        + (" ON CONFLICT DO NOTHING" if ignore else "")
        + f" RETURNING {returned}"
    )
    plan = (statement, fields, returning)
    _STATEMENTS[key] = plan
    return plan


def _insert(objs: "list[M]", *, ignore_conflicts: bool) -> int:
    model = type(objs[0])
    meta = model._meta
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover
        raise NotImplementedError(f"{connection.vendor} cannot return columns from INSERT")
    plan = _plan(model, connection, len(objs), ignore_conflicts)
    params: list[Any] = []
    if plan is not None:
        statement, fields, returning = plan
        for obj in objs:
            # As bulk_create does: a related object's primary key into its *_id column.
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]  # Django's private API, not in the stubs
            for field in fields:
                value = field.pre_save(obj, add=True)
                if hasattr(value, "resolve_expression"):
                    plan = None
                    break
                params.append(field.get_db_prep_save(value, connection=connection))
            if plan is None:
                break
    if plan is None:  # the compiler's way (also for SQLite)
        if not ignore_conflicts:
            model._default_manager.using(using).bulk_create(objs)
            return len(objs)
        if len(objs) != 1:  # pragma: no cover
            raise ValueError("insert_unless_conflict() takes one object")
        fields = [
            f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
        ]
        returning = list(meta.db_returning_fields)
        query = sql.InsertQuery(model, on_conflict=OnConflict.IGNORE)
        query.insert_values(fields, list[models.Model](objs))
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = returning
        [(statement, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    if ignore_conflicts and not rows:
        return 0
    for obj, row in zip(objs, rows, strict=True):
        for value, field in zip(row, returning, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
    return len(rows)


_UPDATES: dict[tuple[type, str, tuple[str, ...], tuple[str, ...]], tuple[str, list, list]] = {}


def update_row(
    model: type[models.Model],
    pk: Any,
    values: dict[str, Any],
    *,
    where: dict[str, Any] | None = None,
) -> int:
    """`model.objects.filter(pk=pk, **where).update(**values)` for the hot paths (the idempotency
    key's completion on every API write), with the statement's text built once per model and
    field names instead of by the query compiler on every call. Values are plain values (no
    expressions), each through its field's get_db_prep_save as update() does; `where` is
    equality on concrete fields. Returns the number of rows changed. No signals, like update()
    (which also bypasses save()); auto_now fields are not touched unless given."""
    where = where or {}
    using = router.db_for_write(model)
    connection = connections[using]
    key = (model, using, tuple(values), tuple(where))
    plan = _UPDATES.get(key)
    if plan is None:
        meta = model._meta
        qn = connection.ops.quote_name
        fields: list[Any] = [meta.get_field(name) for name in values]  # concrete fields
        conditions: list[Any] = [meta.pk, *(meta.get_field(name) for name in where)]
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        tests = " AND ".join(f"{qn(f.column)} = %s" for f in conditions)
        # Identifiers only, from the model's options, each quoted; the values go as parameters.
        statement = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {tests}"  # noqa: S608
        plan = _UPDATES[key] = (statement, fields, conditions)
    statement, fields, conditions = plan
    params = [
        f.get_db_prep_save(v, connection=connection)
        for f, v in zip(fields, values.values(), strict=True)
    ]
    params += [
        f.get_db_prep_save(v, connection=connection)
        for f, v in zip(conditions, (pk, *where.values()), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


class CompiledLookup[T: models.Model]:
    """`unique_or_none(build(value))`, with the SQL compiled once per thread.

    The ORM compiles a queryset's SQL on every evaluation; for a lookup that runs on every API
    request (the API key's row, with its select_related) the compiling cost more than the
    query (bench/availability_profile.py). Here `build` runs once with a marker value, and each
    call runs the same SQL with the marker replaced by `value`, turning the row into instances
    the way Django's ModelIterable does (select_related objects included). Nothing is cached
    but the SQL text: every call reads the row. Querysets whose parameters do not contain the
    marker exactly once (or that annotate) are evaluated the ordinary way.

    `rows(values)` is the same for a lookup by a list (`build` called with a list, e.g.
    `filter(sku__in=values)`): every row, in no particular order, the SQL compiled once per
    thread and number of values (up to MAX_LIST; longer lists go the ordinary way).
    """

    _MARKER = "\x00compiled-lookup-marker\x00"
    MAX_LIST = 64

    def __init__(self, build: Callable[[Any], "models.QuerySet[T]"]) -> None:
        self._build = build
        self._local = threading.local()

    def __call__(self, value: Any) -> T | None:
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = self._compile(
                self._build(self._MARKER).order_by()[:1], [self._MARKER]
            )
        if state is False:
            return unique_or_none(self._build(value))
        found = self._run(state, [value], one=True)
        return found[0] if found else None

    def rows(self, values: "list[Any]") -> "list[T]":
        if not values or len(values) > self.MAX_LIST:
            return list(self._build(values).order_by())
        plans = getattr(self._local, "lists", None)
        if plans is None:
            plans = self._local.lists = {}
        state = plans.get(len(values))
        if state is None:
            markers = [f"{self._MARKER}{n}" for n in range(len(values))]
            state = plans[len(values)] = self._compile(self._build(markers).order_by(), markers)
        if state is False:
            return list(self._build(values).order_by())
        return self._run(state, values, one=False)

    @staticmethod
    def _run(state: Any, values: "list[Any]", *, one: bool) -> "list[T]":
        model, db, compiler, sql, params, where, init_list, start, end, populators = state
        params = list(params)
        for index, value in zip(where, values, strict=True):
            params[index] = value
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            found = [cursor.fetchone()] if one else cursor.fetchall()
        if found == [None]:
            return []
        objs = []
        for row in compiler.results_iter(results=[found]):
            obj = model.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            objs.append(obj)
        return objs

    @classmethod
    def _compile(cls, queryset: "models.QuerySet[T]", markers: "list[str]") -> Any:
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        where = [params.index(m) if params.count(m) == 1 else -1 for m in markers]
        known_related = getattr(queryset, "_known_related_objects", None)  # Django's own state
        if -1 in where or compiler.annotation_col_map or known_related:
            return False
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, queryset.db)  # type: ignore[call-arg]  # Django 5.2's signature; django-stubs has a later one
        return (
            queryset.model,
            queryset.db,
            compiler,
            sql,
            tuple(params),
            where,
            init_list,
            start,
            end,
            populators,
        )
