"""oms/core/bulk.py copy_rows(): rows in one COPY with ids from the table's sequence, model
defaults filled (a callable default called per row, auto_now fields set), JSON encoded, and a
unique violation raised as IntegrityError like bulk_create."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from inventory.models import StockLevel
from oms.core.bulk import copy_rows
from oms.events.models import Event
from tests.factories.inventory import NodeFactory, ProductFactory

pytestmark = pytest.mark.django_db
AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def event_row(seq: int, stream: str = "order:OMS-TEST-0001") -> dict:
    return {
        "stream": stream,
        "seq": seq,
        "type": "order.imported",
        "actor_kind": "system",
        "actor_label": "test",
        "payload": {"n": seq, "nested": ["a", None]},
        "occurred_at": AT,
    }


def test_rows_go_in_with_their_ids_defaults_and_json():
    before = Event.objects.count()
    ids = copy_rows(Event, [event_row(1), event_row(2)])

    assert len(ids) == 2
    assert ids[0] < ids[1]
    first, second = Event.objects.filter(pk__in=ids).order_by("seq")
    assert [first.pk, second.pk] == ids
    assert first.payload == {"n": 1, "nested": ["a", None]}
    assert first.occurred_at == AT
    assert first.event_id != second.event_id  # uuid4 default drawn per row
    assert (first.schema_version, first.correlation_id, first.causation_id) == (1, "", None)
    assert Event.objects.count() == before + 2
    # the sequence moved past the ids taken: the ORM's next insert does not collide
    node = NodeFactory()
    product = ProductFactory()
    [level_id] = copy_rows(StockLevel, [{"node_id": node.pk, "product_id": product.pk}])
    level = StockLevel.objects.get(pk=level_id)
    assert (level.on_hand, level.reserved, level.available) == (0, 0, 0)
    assert level.created_at is not None
    assert level.updated_at == level.created_at
    later = StockLevel.objects.create(node=node, product=ProductFactory())
    assert later.pk > level_id


def test_a_unique_violation_is_an_integrity_error():
    copy_rows(Event, [event_row(1, "order:OMS-TEST-0002")])
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(Event, [event_row(1, "order:OMS-TEST-0002")])
    assert Event.objects.filter(stream="order:OMS-TEST-0002").count() == 1


def test_no_rows_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert copy_rows(Event, []) == []
