"""The sweeper finds planted work that is due but not done, and nothing else."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.sweeper import find_due_work
from fulfillment.tasks import sweep_due_work_task
from oms.core.actors import Actor
from orders.models import Order
from orders.services.holds import place_hold
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=10)


def test_finds_orders_never_orchestrated_but_not_held_or_fresh_ones(db):
    # given: orchestration messages "lost" (on-commit callbacks never ran in this test)
    ProductFactory(sku="TEE")
    lost = captured_order(external_id="LOST", skus=["TEE"])
    held = captured_order(external_id="HELD", skus=["TEE"])
    place_hold(order_id=held.pk, kind="fraud", reason="", actor=Actor.system("t"))

    # when
    now_due = find_due_work(now=timezone.now() + LATER)
    too_early = find_due_work(now=timezone.now())

    # then
    assert now_due.orchestrate == [lost.pk]
    assert too_early.orchestrate == []


def test_finds_pending_fulfillments_and_expired_pickups(django_capture_on_commit_callbacks):
    dc = NodeFactory(code="dc-east", connector="pushed")  # an API node is released at once
    stocked(dc, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(skus=["TEE"])
    orchestrate_order(order_id=order.pk)  # release task "lost": on-commit never ran
    fo = FulfillmentOrder.objects.get(order=order)

    due = find_due_work(now=timezone.now() + LATER)

    assert due.release == [fo.pk]


def test_the_sweep_task_resends_and_the_work_gets_done(
    django_capture_on_commit_callbacks, monkeypatch
):
    # given: an order whose orchestration message was lost
    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(skus=["TEE"])
    monkeypatch.setattr("fulfillment.services.sweeper.GRACE", timedelta(0))

    # when: the sweeper runs (Celery eager in tests), twice
    with django_capture_on_commit_callbacks(execute=True):
        first = sweep_due_work_task()
        second = sweep_due_work_task()

    # then
    assert first["orchestrate"] == 1
    assert second["orchestrate"] == 0
    assert Order.objects.get(pk=order.pk).status == "released"
    assert FulfillmentOrder.objects.filter(order=order).count() == 1
