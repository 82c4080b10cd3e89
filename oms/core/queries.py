import datetime
import decimal
import functools
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import DatabaseError, connections, models, router
from django.db.models import fields as model_fields
from django.db.models import sql
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.fields.related import ForeignKey, ForeignObjectRel
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import get_related_populators
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

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


def insert_unless_conflict_bound(obj: models.Model) -> bool:
    """`insert_unless_conflict(obj)` with the values bound by the server (see insert_rows_bound)."""
    return _insert([obj], ignore_conflicts=True, server_binding=True) == 1


def insert_rows_bound(objs: "list[M]") -> "list[M]":
    """`insert_rows(objs)` with the values sent apart from the statement (PostgreSQL's extended
    protocol) instead of quoted into its text, for the INSERTs every order capture runs.

    Django's psycopg connection binds on the client: every value is rendered as an SQL literal
    and the server parses and plans each statement anew. Bound by the server, the values go
    as they are, and psycopg prepares a statement it has run a few times on the connection,
    so the server skips the parsing and planning too: about 7 % less CPU per capture in the
    web process (bench/capture_profile.py, docs/performance.md), and less for PostgreSQL. Not
    a global switch (`server_side_binding` in the database OPTIONS): that made other requests
    slower, statements whose text varies (IN lists) among them. Over PostgreSQL's 65,535 bound
    values, and on other databases, the ordinary way."""
    if objs:
        _insert(objs, ignore_conflicts=False, server_binding=True)
    return objs


def new_row(model: "type[M]", **values: Any) -> "M":
    """`model(**values)` for the rows the hot paths build to insert (the event log, order
    capture, orchestration's fulfillment orders and movements): the same instance, from a plan
    made once per model instead of Django's per-field loop with its isinstance checks, caught
    KeyErrors and signal sends (a sixth of orchestration's CPU went to 22 such instances an
    order). Every field not given gets its default; a related object given by name goes
    through its descriptor, as in Django.

    Django's own constructor runs instead where this plan would not be the same: a model with
    its own __init__ (django-fsm's ConcurrentTransitionMixin), a pre_init or post_init receiver
    for the model, or a keyword that is not a concrete field's name or attname (a property;
    a mistake, which raises Django's TypeError)."""
    plan = _row_plan(model)
    if (
        plan is None
        or not values.keys() <= plan.names
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return model(**values)
    obj = object.__new__(model)
    obj._state = ModelState()
    stored = obj.__dict__
    for name, attname, related, plain, default in plan.fields:
        if related and name in values:
            setattr(obj, name, values[name])  # the descriptor sets the id and caches the object
            continue
        value = values[attname] if attname in values else default()
        if plain:
            stored[attname] = value
        else:
            setattr(obj, attname, value)
    return obj


class _RowPlan:
    __slots__ = ("fields", "names")

    def __init__(self, fields: tuple[tuple[str, str, bool, bool, Callable[[], Any]], ...]):
        self.fields = fields
        self.names = frozenset(
            name for field_name, attname, *_rest in fields for name in (field_name, attname)
        )


# What Django's constructor stores straight into the instance's __dict__ (its descriptors have
# no __set__, or one that only clears a cached related object a new instance does not have).
_PLAIN_DESCRIPTORS = (DeferredAttribute,)


@functools.cache
def _row_plan(model: type[models.Model]) -> "_RowPlan | None":
    if model.__init__ is not models.Model.__init__ or model._meta.abstract:
        return None
    fields = []
    for field in model._meta.fields:  # the fields Django's constructor walks, in its order
        if field.column is None or field.generated:
            continue
        related = isinstance(field.remote_field, ForeignObjectRel)
        descriptor = model.__dict__.get(field.attname)
        if descriptor is None:  # inherited: Django sets it on the concrete model's class
            descriptor = getattr(model, field.attname, None)
        plain = type(descriptor) in _PLAIN_DESCRIPTORS or (
            type(descriptor) is ForeignKeyDeferredAttribute
        )
        fields.append((field.name, field.attname, related, plain, field.get_default))
    return _RowPlan(tuple(fields))


# PostgreSQL's limit on the parameters of one statement bound by the server.
_MAX_BOUND_PARAMS = 65_535


def _cursor(connection: "BaseDatabaseWrapper", server_binding: bool, binary: bool = False) -> Any:
    """`connection.cursor()`, or with `server_binding` a cursor of psycopg's own class (values
    bound by the server, statements prepared after a few runs) on the same connection, wrapped
    as Django wraps its cursors (database errors translated, queries logged when asked)."""
    if not server_binding or connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _bound_cursor_class()(connection.connection)
        if binary:  # results in PostgreSQL's binary format, as connection.cursor(binary=True)
            raw.format = BINARY
        return connection._prepare_cursor(raw)  # type: ignore[attr-defined]  # Django's private wrapper step, not in the stubs


BINARY = 1  # psycopg.pq.Format.BINARY


@functools.cache
def _bound_cursor_class() -> type:
    """psycopg's Cursor (values bound by the server), with two changes:

    - it keeps the statement it ran prepared: psycopg records it only when it is not, and
      Django's query log (DEBUG, CaptureQueriesContext) reads that record;
    - every statement's parsing (its `%s` placeholders into `$n`) is cached: psycopg caches
      it only for statements under 4 KB with at most 50 values, and parsed the multi-row
      INSERTs of a capture and the reservations' INSERT again on every run (a tenth of the
      orchestration's CPU in the worker). The texts bound here are a small fixed set, each
      built once per model and row count, so a bounded cache holds them all."""
    import psycopg  # only PostgreSQL gets here
    from psycopg import _queries, adapt  # psycopg's own conversion, its cache limits aside

    parse = functools.lru_cache(maxsize=512)(_queries._query2pg_nocache)

    class CachedQuery(_queries.PostgresQuery):
        def convert(self, query: Any, vars: Any) -> None:  # noqa: A002 - psycopg's name
            if vars is None or not isinstance(query, str | bytes):
                super().convert(query, vars)
                return
            query = self._ensure_bytes(query)
            self.query, self._want_formats, self._order, self._parts = parse(
                query, self._tx.encoding
            )
            self.dump(vars)

    class BoundCursor(psycopg.Cursor):  # rows are tuples
        _query_cls = CachedQuery
        _own_transformer: Any = None
        _keep_transformer = True

        def _start_query(self, query: Any = None) -> Any:
            # psycopg makes a new Transformer (its values' dumpers, its results' loaders) for
            # every statement a cursor runs, and every cursor is new here: each statement
            # looked its parameters' dumpers up afresh (AdaptersMap.get_dumper, a Python MRO
            # walk per type and a dumper built) and dumping cost about twice what it costs
            # with the dumpers found (the order's INSERT: 52 against 18 µs). A cursor of this
            # class takes its connection's spare Transformer, and gives it back when closed,
            # for the next one. Only a closed cursor gives it back: it can fetch nothing more,
            # so no two open cursors ever share one (a cursor opened while another holds it
            # makes its own). Not given back: one a COPY gave row dumpers to, one closed inside
            # a pipeline block (its results come later). No cursor here registers adapters.
            if self._own_transformer is None and not self.closed:
                spare = self._conn.__dict__.pop("_oms_spare_transformer", None)
                self._own_transformer = spare or adapt.Transformer(self)
            if self._own_transformer is not None:
                # psycopg keeps `_tx` for the query it ran last: so it builds none to discard
                self._tx, self._last_query = self._own_transformer, query
            yield from super()._start_query(query)
            if self._own_transformer is not None:
                self._tx = self._own_transformer

        def _send_query_prepared(
            self, name: bytes, pgq: Any, *, binary: bool | None = None
        ) -> None:
            self._query = pgq  # what Django's query log reads (psycopg keeps it only unprepared)
            super()._send_query_prepared(name, pgq, binary=binary)

        def copy(self, *args: Any, **kwargs: Any) -> Any:
            self._keep_transformer = False  # COPY sets row dumpers on it for good
            return super().copy(*args, **kwargs)

        def close(self) -> None:
            super().close()
            kept, self._own_transformer = self._own_transformer, None
            if kept is not None and self._keep_transformer and self._conn._pipeline is None:
                self._conn.__dict__["_oms_spare_transformer"] = kept

    return BoundCursor


def opaque_array(sql_type: str) -> str:
    """An array parameter's placeholder, `(SELECT %s::bigint[])::bigint[]`, that PostgreSQL's
    planner cannot see into, for a prepared statement run once per order or request.

    A plain `%s::bigint[]` in `= ANY(...)` or `unnest(...)` is a constant to a custom plan,
    which counts its elements (3 lines), while the generic plan assumes 10 elements (and 100
    rows from unnest()). The generic plan then looks dearer, so PostgreSQL never keeps it and
    plans every execution again: 0.10-0.14 ms each for the reservation, the node candidates and
    the lines' roll-up, 0.36 ms of planning per orchestrated order (pg_stat_statements: 1,502
    plans for 1,500 calls). Inside a sub-select (an InitPlan) the array is unknown to both
    plans, so after psycopg prepares the statement the generic plan is chosen and kept: 12 plans
    for 29,000 calls, with the same plan shape. `sql_type`: the array's type, e.g. "bigint[]"."""
    return f"(SELECT %s::{sql_type})::{sql_type}"


def bound_cursor(connection: "BaseDatabaseWrapper", *, binary: bool = False) -> Any:
    """A cursor whose values are bound by the server (PostgreSQL's extended protocol) on
    `connection`: psycopg prepares a statement it has run a few times on the connection, and
    the server then neither parses nor plans it again. For the hot statements whose text is
    always the same (orchestration's per-order reads and writes): the routing line lock's
    planning alone was 1 ms of PostgreSQL's CPU per order, more than running it
    (docs/performance.md). The ordinary cursor elsewhere than PostgreSQL. Parameters as
    psycopg takes them (`%s` or `%(name)s`; a list is an array)."""
    return _cursor(connection, True, binary)


def raw_bound[R: models.Model](model: type[R], statement: str, params: Any) -> list[R]:
    """`list(model.objects.raw(statement, params))` through bound_cursor(): the model's
    columns become an instance each (its fields' from_db_value applied, as raw() does), and
    every other column an attribute of it. On other databases, raw() itself."""
    using = router.db_for_read(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return list(model._default_manager.db_manager(using).raw(statement, params))
    with bound_cursor(connection) as cursor:
        cursor.execute(statement, params)
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    position = {name: i for i, name in enumerate(names)}
    # In the model's field order (Model.from_db takes the values so), whatever the columns'.
    fields = [f for f in model._meta.concrete_fields if f.column in position]
    columns = [position[f.column] for f in fields]
    attnames = [f.attname for f in fields]
    known = {f.column for f in fields}
    extra = [(i, name) for i, name in enumerate(names) if name not in known]
    converters = [
        (n, field.from_db_value)
        for n, field in enumerate(fields)
        if hasattr(field, "from_db_value")
    ]
    objs = []
    for row in rows:
        values = [row[i] for i in columns]
        for n, convert in converters:
            values[n] = convert(values[n], None, connection)
        obj = model.from_db(using, attnames, values)
        for i, name in extra:
            setattr(obj, name, row[i])
        objs.append(obj)
    return objs


_STATEMENTS: dict[tuple[type, str, int, bool], tuple[str, list, list]] = {}

# What a field's get_db_prep_save does with a value on PostgreSQL, for the fields whose
# conversion is Django's own (not overridden by the field's class, e.g. an encrypted field): for
# these kinds of value it returns the value itself, so the INSERT of a capture's rows need not
# run the chain of five calls per value. Any other value, and any other field, goes through
# get_db_prep_save as before (which also raises for what it refuses: a non-finite Decimal).
# Integers: an IntegerField's value (not a bool) goes as Django's psycopg adapter wraps it
# (Int2/Int4/Int8, the field's `wrap`), a foreign key's to an auto primary key as it is.
_SLOW, _TEXT, _DATETIME, _UUID, _DECIMAL, _BOOL, _INT, _AUTO_FK = range(8)
_F = model_fields


def _value_kind(field: Any) -> int:
    cls = type(field)
    if isinstance(field, ForeignKey) and cls.get_db_prep_save is ForeignKey.get_db_prep_save:
        target = type(field.target_field)
        if (
            issubclass(target, _F.AutoFieldMixin)
            and target.get_db_prep_save is _F.Field.get_db_prep_save
            and target.get_db_prep_value is _F.AutoFieldMixin.get_db_prep_value
            and target.get_prep_value is _F.IntegerField.get_prep_value
        ):
            return _AUTO_FK  # an int or None: int(value) and the backend's validate_autopk_value
        return _SLOW
    if cls.get_db_prep_save is not _F.Field.get_db_prep_save:
        return _SLOW
    prep, db_prep, to_python = cls.get_prep_value, cls.get_db_prep_value, cls.to_python
    plain = db_prep is _F.Field.get_db_prep_value
    if plain and prep is _F.CharField.get_prep_value and to_python is _F.CharField.to_python:
        return _TEXT  # any str (a TextChoices member too) or None, as CharField.to_python
    if plain and prep is _F.TextField.get_prep_value and to_python is _F.TextField.to_python:
        return _TEXT
    if plain and prep is _F.BooleanField.get_prep_value and to_python is _F.BooleanField.to_python:
        return _BOOL  # True, False or None, as BooleanField.to_python returns them
    if (
        db_prep is _F.IntegerField.get_db_prep_value
        and prep is _F.IntegerField.get_prep_value
        and not isinstance(field, _F.AutoFieldMixin)
    ):
        return _INT
    if (
        db_prep is _F.DateTimeField.get_db_prep_value
        and prep is _F.DateTimeField.get_prep_value
        and to_python is _F.DateTimeField.to_python
    ):
        return _DATETIME  # an aware datetime or None (a naive one warns: the slow way)
    if db_prep is _F.UUIDField.get_db_prep_value and to_python is _F.UUIDField.to_python:
        return _UUID  # a UUID or None, PostgreSQL having a native uuid type
    if (
        db_prep is _F.DecimalField.get_db_prep_value
        and prep is _F.DecimalField.get_prep_value
        and to_python is _F.DecimalField.to_python
    ):
        return _DECIMAL  # a finite Decimal or None (the backend's adapt_decimalfield_value
        # returns it as it is)
    return _SLOW


def _int_wrapper(field: Any, kind: int, connection: "BaseDatabaseWrapper") -> Any:
    """What adapt_integerfield_value wraps an IntegerField's int in (psycopg 3's Int2, Int4 or
    Int8, by the field's internal type); None where the backend does otherwise (the field's
    values then go the slow way)."""
    if kind != _INT:
        return None
    from django.db.backends.postgresql.operations import DatabaseOperations

    ops = connection.ops
    type_map = getattr(ops, "integerfield_type_map", None)
    own = DatabaseOperations.adapt_integerfield_value
    if type_map is None or type(ops).adapt_integerfield_value is not own:
        return None
    return type_map.get(field.get_internal_type())


def _as_is(kind: int, value: Any) -> bool:
    """Whether get_db_prep_save(value) is `value` itself, for a field of this kind."""
    if value is None:
        return kind != _SLOW
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _DATETIME:
        return type(value) is datetime.datetime and value.tzinfo is not None
    if kind == _UUID:
        return type(value) is uuid.UUID
    if kind == _DECIMAL:
        return type(value) is decimal.Decimal and value.is_finite()
    if kind == _BOOL:
        return type(value) is bool
    if kind == _AUTO_FK:
        return type(value) is int
    return False


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
    # Per field: the field, whether its pre_save is only the attribute's value, its kind, and
    # for an integer the wrapper its value goes in.
    specs = []
    for f in fields:
        kind = _value_kind(f)
        wrap = _int_wrapper(f, kind, connection)
        if kind == _INT and wrap is None:
            kind = _SLOW
        specs.append((f, f.attname, type(f).pre_save is _F.Field.pre_save, kind, wrap))
    plan = (statement, specs, returning)
    _STATEMENTS[key] = plan
    return plan


def insert_statement(
    objs: "list[M]", connection: "BaseDatabaseWrapper"
) -> tuple[str, list[Any], list[Any]] | None:
    """The INSERT of `objs` (rows without a primary key yet) as bulk_create would send it, with
    `RETURNING` the model's returned columns: (statement, parameters, returned fields), the
    statement's text built once per model and row count. None where that shortcut does not
    hold (see insert_rows); the caller then uses Django's compiler."""
    plan = _plan(type(objs[0]), connection, len(objs), False)
    if plan is None:
        return None
    statement, specs, returning = plan
    params = _row_params(objs, specs, connection)
    return None if params is None else (statement, params, returning)


def _row_params(
    objs: "list[M]", specs: list[Any], connection: "BaseDatabaseWrapper"
) -> list[Any] | None:
    params: list[Any] = []
    append = params.append
    for obj in objs:
        # As bulk_create does: a related object's primary key into its *_id column.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]  # Django's private API, not in the stubs
        for field, attname, plain, kind, wrap in specs:
            value = getattr(obj, attname) if plain else field.pre_save(obj, add=True)
            if kind == _INT and type(value) is int:
                append(wrap(value))
                continue
            if kind and _as_is(kind, value):
                append(value)
                continue
            if hasattr(value, "resolve_expression"):
                return None
            append(field.get_db_prep_save(value, connection=connection))
    return params


def _insert(objs: "list[M]", *, ignore_conflicts: bool, server_binding: bool = False) -> int:
    model = type(objs[0])
    meta = model._meta
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover
        raise NotImplementedError(f"{connection.vendor} cannot return columns from INSERT")
    plan = _plan(model, connection, len(objs), ignore_conflicts)
    params: list[Any] | None = []
    if plan is not None:
        statement, specs, returning = plan
        params = _row_params(objs, specs, connection)
        if params is None:
            plan = None
    if plan is None or params is None:  # the compiler's way (also for SQLite)
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
    bound = server_binding and len(params) <= _MAX_BOUND_PARAMS
    with _cursor(connection, bound) as cursor:
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


def _update_plan(
    model: type[models.Model], using: str, names: "Sequence[str]", where: "Sequence[str]"
) -> tuple[str, list[Any], list[Any]]:
    """`UPDATE <table> SET <names> = %s WHERE <pk> = %s AND <where> = %s`, its text built once
    per model, database and field names: (statement, the SET fields, the WHERE fields)."""
    key = (model, using, tuple(names), tuple(where))
    plan = _UPDATES.get(key)
    if plan is None:
        meta = model._meta
        qn = connections[using].ops.quote_name
        fields: list[Any] = [meta.get_field(name) for name in names]  # concrete fields
        conditions: list[Any] = [meta.pk, *(meta.get_field(name) for name in where)]
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        tests = " AND ".join(f"{qn(f.column)} = %s" for f in conditions)
        # Identifiers only, from the model's options, each quoted; the values go as parameters.
        statement = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {tests}"  # noqa: S608
        plan = _UPDATES[key] = (statement, fields, conditions)
    return plan


def update_row(
    model: type[models.Model],
    pk: Any,
    values: dict[str, Any],
    *,
    where: dict[str, Any] | None = None,
    bound: bool = False,
) -> int:
    """`model.objects.filter(pk=pk, **where).update(**values)` for the hot paths (the idempotency
    key's completion on every API write), with the statement's text built once per model and
    field names instead of by the query compiler on every call. Values are plain values (no
    expressions), each through its field's get_db_prep_save as update() does; `where` is
    equality on concrete fields. Returns the number of rows changed. No signals, like update()
    (which also bypasses save()); auto_now fields are not touched unless given. `bound`: the
    values bound by the server and the statement prepared, as insert_rows_bound does."""
    where = where or {}
    using = router.db_for_write(model)
    connection = connections[using]
    statement, fields, conditions = _update_plan(model, using, list(values), list(where))
    params = [
        f.get_db_prep_save(v, connection=connection)
        for f, v in zip(fields, values.values(), strict=True)
    ]
    params += [
        f.get_db_prep_save(v, connection=connection)
        for f, v in zip(conditions, (pk, *where.values()), strict=True)
    ]
    with _cursor(connection, bound) as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


def save_fields(
    obj: models.Model,
    fields: "Sequence[str]",
    *,
    along: "Sequence[tuple[str, Sequence[Any]]]" = (),
) -> None:
    """`obj.save(update_fields=fields)` for the hot paths (the order's and a fulfillment
    order's status after an FSM transition): the same `UPDATE ... SET ... WHERE pk`, each
    field's pre_save (auto_now timestamps set on the object too) and get_db_prep_save, with the
    statement's text built once per model and field list instead of by the query compiler,
    and its values bound by the server (prepared after a few runs on a connection).
    Like save(update_fields=...), an UPDATE that finds no row raises DatabaseError. Unlike it,
    no pre_save/post_save signals: only for models nothing listens to.

    `along`: other data-modifying statements (statement, parameters) of the same transaction,
    on PostgreSQL sent in the same statement as data-modifying CTEs (one round trip; each sees
    the same snapshot, so they must not touch `obj`'s row, nor each other's rows); elsewhere,
    run first, one by one."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    statement, targets, _ = _update_plan(model, using, fields, ())
    params: list[Any] = []
    for field in targets:
        value = field.pre_save(obj, add=False)
        if hasattr(value, "resolve_expression"):  # an expression: the compiler's way
            _run_along(connection, along)
            obj.save(update_fields=list(fields))
            return
        params.append(field.get_db_prep_save(value, connection=connection))
    params.append(model._meta.pk.get_db_prep_value(obj.pk, connection))
    if along and connection.vendor == "postgresql":
        ctes = ", ".join(f"along_{i} AS ({sql_text})" for i, (sql_text, _) in enumerate(along))
        statement = f"WITH {ctes} {statement}"
        params = [value for _, values in along for value in values] + params
    else:
        _run_along(connection, along)
    with bound_cursor(connection) as cursor:  # one text per model and fields: prepared
        cursor.execute(statement, params)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def _run_along(
    connection: "BaseDatabaseWrapper", along: "Sequence[tuple[str, Sequence[Any]]]"
) -> None:
    for sql_text, values in along:
        with bound_cursor(connection) as cursor:
            cursor.execute(sql_text, list(values))


class CompiledLookup[T: models.Model]:
    """`unique_or_none(build(*values))`, with the SQL compiled once per thread.

    The ORM compiles a queryset's SQL on every evaluation; for a lookup that runs on every API
    request (the API key's row, with its select_related) or every order (the order's lock) the
    compiling cost more than the query (bench/availability_profile.py,
    bench/orchestrate_profile.py). Here `build` runs once with marker values, and each call
    runs the same SQL with each marker replaced by its value, turning the row into instances
    the way Django's ModelIterable does (select_related objects and annotations included).
    Nothing is cached but the SQL text: every call reads the row. Querysets whose parameters do
    not contain each marker exactly once are evaluated the ordinary way.

    `rows(values)` is the same for a lookup by a list (`build` called with a list, e.g.
    `filter(sku__in=values)`): every row, in no particular order, the SQL compiled once per
    thread and number of values (up to MAX_LIST; longer lists go the ordinary way).
    """

    _MARKER = "\x00compiled-lookup-marker-{}\x00"
    _INT_MARKER = -7_346_129_811_234_567  # an integer field's marker (no real id is negative)
    MAX_LIST = 64

    def __init__(
        self,
        build: Callable[..., "models.QuerySet[T]"],
        *,
        kinds: tuple[type, ...] = (str,),
        bound: bool = False,
    ) -> None:
        """`kinds`: the type of each of build's arguments (str or int: the marker has to pass
        the field's own conversion). `bound`: the values bound by the server and the statement
        prepared after a few runs on a connection (as insert_rows_bound does), for a lookup
        every request runs with a statement text that does not vary."""
        self._build = build
        self._kinds = kinds
        self._bound = bound
        self._local = threading.local()

    def __call__(self, *values: Any) -> T | None:
        rows = self._run(values, one=True)
        return rows[0] if rows else None

    def _queryset(self, queryset: "models.QuerySet[T]", one: bool) -> "models.QuerySet[T]":
        return queryset.order_by()[:1] if one else queryset

    def _run(self, values: tuple[Any, ...], *, one: bool) -> list[T]:
        state = getattr(self._local, "state", None)
        if state is None:
            markers = [
                self._INT_MARKER - i if kind is int else self._MARKER.format(i)
                for i, kind in enumerate(self._kinds)
            ]
            state = self._local.state = self._compile(
                self._queryset(self._build(*markers), one), markers
            )
        if state is False:
            return list(self._queryset(self._build(*values), one))
        return self._execute(state, values, self._bound)

    def rows(self, values: "list[Any]") -> "list[T]":
        if not values or len(values) > self.MAX_LIST:
            return list(self._build(values).order_by())
        plans = getattr(self._local, "lists", None)
        if plans is None:
            plans = self._local.lists = {}
        state = plans.get(len(values))
        if state is None:
            markers = [self._MARKER.format(f"list-{n}") for n in range(len(values))]
            state = plans[len(values)] = self._compile(self._build(markers).order_by(), markers)
        if state is False:
            return list(self._build(values).order_by())
        return self._execute(state, tuple(values), self._bound)

    @staticmethod
    def _execute(state: Any, values: "tuple[Any, ...]", bound: bool = False) -> "list[T]":
        (
            model,
            db,
            compiler,
            sql,
            params,
            where,
            init_list,
            start,
            end,
            populators,
            annotations,
            converters,
        ) = state
        params = list(params)
        for index, value in zip(where, values, strict=True):
            params[index] = value
        with _cursor(connections[db], bound) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        objs = []
        for row in rows:
            obj = model.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            objs.append(obj)
        return objs

    @classmethod
    def _compile(cls, queryset: "models.QuerySet[T]", markers: list[Any]) -> Any:
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        where = []
        for marker in markers:
            found = [i for i, p in enumerate(params) if type(p) is type(marker) and p == marker]
            if len(found) != 1:
                return False
            where.append(found[0])
        known_related = getattr(queryset, "_known_related_objects", None)  # Django's own state
        if known_related:
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
            tuple(where),
            init_list,
            start,
            end,
            populators,
            tuple(compiler.annotation_col_map.items()),
            # What results_iter() would work out on every call: the columns' converters.
            compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]),
        )


class CompiledQuery[T: models.Model](CompiledLookup[T]):
    """`list(build(*values))` (its own ordering kept), with the SQL compiled once per thread:
    CompiledLookup for a queryset of several rows."""

    def all(self, *values: Any) -> list[T]:
        return self._run(values, one=False)

    def __call__(self, *values: Any) -> T | None:  # pragma: no cover - use all()
        raise TypeError("CompiledQuery: call all()")
