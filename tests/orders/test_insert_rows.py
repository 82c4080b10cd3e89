"""oms.core.queries.insert_rows (the capture path's INSERT without Django's query compiler)
writes exactly the rows bulk_create writes, and insert_unless_conflict still tells a conflict."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from oms.core.queries import insert_rows, insert_unless_conflict, update_row
from oms.events.models import Event
from orders.models import Order, OrderLine
from tests.factories.inventory import ProductFactory
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

SKIP = {"id", "created_at", "updated_at", "event_id", "seq", "number", "public_id", "external_id"}


def _columns(model, pk):
    """Every column of the row as PostgreSQL holds it (types included), less the ones that
    differ by construction."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{model._meta.db_table}" WHERE id = %s', [pk])  # noqa: S608
        names = [c.name for c in cursor.description]
        row = cursor.fetchone()
    return {n: (v, type(v)) for n, v in zip(names, row, strict=True) if n not in SKIP}


def _lines(order, product, first):
    return [
        OrderLine(
            order=order,
            line_number=first + n,
            product=product,
            sku=product.sku,
            name=product.name,
            quantity=n,
            unit_price=Decimal("9.99"),
            discount=Decimal("0.50"),
            tax=Decimal("0"),
            total=Decimal("9.49") * n,
        )
        for n in (1, 2)
    ]


def test_order_lines_are_the_rows_bulk_create_writes():
    order = captured_order()
    product = ProductFactory()
    fast = insert_rows(_lines(order, product, 10))
    slow = OrderLine.objects.bulk_create(_lines(order, product, 20))

    assert all(line.pk and not line._state.adding for line in fast)
    for a, b in zip(fast, slow, strict=True):
        ca, cb = _columns(OrderLine, a.pk), _columns(OrderLine, b.pk)
        ca.pop("line_number"), cb.pop("line_number")
        assert ca == cb


def test_an_event_is_the_row_save_writes():
    payload = {"a": [1, "2", None], "b": {"c": "9.99"}}
    fast = Event(
        stream="order:F",
        seq=1,
        type="order.created",
        schema_version=1,
        actor_kind="system",
        actor_id="x",
        actor_label="X",
        payload=payload,
        causation_id=uuid.uuid4(),
        occurred_at=timezone.now(),
    )
    insert_rows([fast])
    slow = Event(
        stream="order:S",
        seq=1,
        type="order.created",
        schema_version=1,
        actor_kind="system",
        actor_id="x",
        actor_label="X",
        payload=payload,
        causation_id=fast.causation_id,
        occurred_at=fast.occurred_at,
    )
    slow.save(force_insert=True)

    a, b = _columns(Event, fast.pk), _columns(Event, slow.pk)
    a.pop("stream"), b.pop("stream")
    assert a == b
    assert Event.objects.get(pk=fast.pk).payload == payload


def test_insert_unless_conflict_inserts_once_then_reports_the_conflict():
    order = captured_order(external_id="EXT-9")
    twin = Order(
        **{
            **model_to_dict(order, exclude=["id", "public_id", "number"]),
            "channel": order.channel,
            "pickup_node": None,
        },
        number="OMS-TWIN-0001",
    )
    assert insert_unless_conflict(twin) is False  # same (channel, external_id)
    assert twin.pk is None
    twin.external_id = "EXT-10"
    assert insert_unless_conflict(twin) is True
    assert Order.objects.get(pk=twin.pk).number == "OMS-TWIN-0001"


def test_update_row_writes_what_update_writes_and_only_where_it_matches():
    from oms.api.models import IdempotencyKey, IdempotencyKeyStatus
    from tests.factories.orders import issue_api_key

    client = issue_api_key().client
    now = timezone.now()

    def key(name):
        return IdempotencyKey.objects.create(
            api_client=client,
            key=name,
            method="POST",
            path="/api/v1/orders/",
            fingerprint="f" * 64,
            status=IdempotencyKeyStatus.IN_PROGRESS,
            locked_until=now,
            claimed_by_session=7,
            created_at=now,
            expires_at=now,
        )

    fast, slow = key("fast"), key("slow")
    body = {"number": "OMS-1", "total": Decimal("9.99"), "lines": [{"sku": "A", "n": None}]}
    values = {
        "status": IdempotencyKeyStatus.COMPLETED,
        "locked_until": None,
        "response_status": 201,
        "response_body": body,
    }

    assert update_row(IdempotencyKey, fast.pk, values) == 1
    IdempotencyKey.objects.filter(pk=slow.pk).update(**values)

    a, b = _columns(IdempotencyKey, fast.pk), _columns(IdempotencyKey, slow.pk)
    a.pop("key"), b.pop("key")
    assert a == b
    assert a["status"][0] == "completed"
    assert a["locked_until"][0] is None
    # a condition that does not hold changes nothing
    changed = update_row(
        IdempotencyKey, fast.pk, {"response_status": 500}, where={"status": "in_progress"}
    )
    assert changed == 0
    assert IdempotencyKey.objects.get(pk=fast.pk).response_status == 201


def test_row_values_taken_as_they_are_equal_what_get_db_prep_save_returns():
    """The INSERT's values skip get_db_prep_save where it would return the value itself
    (oms/core/queries.py, _value_kind): for every field of a captured order, its lines and its
    event, the value sent is what get_db_prep_save returns, of the same type."""
    from oms.core.queries import _plan, _row_params

    order = captured_order()
    objs = [order, *order.lines.all(), Event.objects.filter(stream__endswith=order.number).get()]
    for obj in objs:
        plan = _plan(type(obj), connection, 1, False)
        assert plan is not None
        _, specs, _ = plan
        fast = _row_params([obj], specs, connection)
        assert fast is not None
        slow = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f, *_ in specs]
        assert [type(v) for v in fast] == [type(v) for v in slow]
        # auto_now timestamps are "now" on each pass: compared by type only
        for (field, *_), a, b in zip(specs, fast, slow, strict=True):
            if not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
                assert getattr(a, "obj", a) == getattr(b, "obj", b), field.name
    kinds = {f.name: kind for f, _, _, kind, _ in _plan(Order, connection, 1, False)[1]}
    assert all(
        kinds[name] for name in ("external_id", "grand_total", "public_id", "placed_at", "channel")
    )
    assert not kinds["billing_address"]  # JSON: Django's adapter


def test_every_model_s_row_values_equal_what_get_db_prep_save_returns():
    """The same for one row of every model of oms that has one after a capture and its
    orchestration: integers (wrapped as Django's psycopg adapter wraps them: Int2/Int4/Int8),
    booleans and foreign keys to auto primary keys included."""
    from django.apps import apps
    from psycopg.types.numeric import Int2, Int4, Int8

    from fulfillment.services.orchestration import orchestrate_order
    from oms.core.queries import _AUTO_FK, _BOOL, _INT, _plan, _row_params

    order = captured_order()
    orchestrate_order(order_id=order.pk)
    seen_kinds: set[int] = set()
    checked = []
    for model in apps.get_models():
        if model.__module__.split(".")[0] in {"django", "axes", "simple_history"}:
            continue
        obj = model._default_manager.order_by("pk").first()
        plan = obj and _plan(model, connection, 1, False)
        if not plan:
            continue
        _, specs, _ = plan
        fast = _row_params([obj], specs, connection)
        if fast is None:
            continue
        slow = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f, *_ in specs]
        for (field, _, _, kind, _), a, b in zip(specs, fast, slow, strict=True):
            seen_kinds.add(kind)
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                continue
            assert type(a) is type(b), (model.__name__, field.name, type(a), type(b))
            assert getattr(a, "obj", a) == getattr(b, "obj", b), (model.__name__, field.name)
        checked.append(model.__name__)
    assert {"Order", "OrderLine", "Event", "RoutingDecision"} <= set(checked), checked
    assert {_INT, _BOOL, _AUTO_FK} <= seen_kinds
    from oms.core.queries import _int_wrapper

    assert {
        _int_wrapper(f, _INT, connection) for f in (OrderLine._meta.get_field("quantity"),)
    } <= {
        Int2,
        Int4,
        Int8,
    }
