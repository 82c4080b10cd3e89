"""Detectors find what is planted and nothing else, and running them twice changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import StockLevel
from ops.models import ExceptionCase
from ops.services.detectors import (
    detect_aged_backorders,
    detect_late_fulfillments,
    detect_stale_feeds,
    detect_stuck_orders,
    run_detectors,
)
from orders.models import Order
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


def test_stuck_orders_are_those_without_progress_past_the_status_threshold():
    moved = captured_order(external_id="MOVED")
    stuck = captured_order(external_id="STUCK")
    later = timezone.now() + timedelta(minutes=16)
    # the row of `moved` changed a minute before `later`: that is progress
    Order.objects.filter(pk=moved.pk).update(updated_at=later - timedelta(minutes=1))

    raised = detect_stuck_orders(now=later)

    case = ExceptionCase.objects.get(pk__in=raised)
    assert (case.kind, case.subject_label, case.details["threshold_minutes"]) == (
        "stuck_order",
        stuck.number,
        15,
    )
    assert len(raised) == 1


def test_stuck_detection_respects_each_status_threshold(settings):
    order = captured_order()
    settings.OMS_EXCEPTION_THRESHOLDS = {"stuck_minutes": {"created": 60}}

    assert detect_stuck_orders(now=timezone.now() + timedelta(minutes=30)) == []
    raised = detect_stuck_orders(now=timezone.now() + timedelta(minutes=61))
    again = detect_stuck_orders(now=timezone.now() + timedelta(minutes=62))

    assert raised == again
    assert len(raised) == 1
    case = ExceptionCase.objects.get()
    assert (case.subject_label, case.occurrences, case.details["status"]) == (
        order.number,
        2,
        "created",
    )


def test_late_fulfillments_only_past_ship_by(django_capture_on_commit_callbacks):
    product = ProductFactory(sku="TEE")
    stocked(NodeFactory(code="dc-east"), product, on_hand=10)
    late = captured_order(external_id="LATE", skus=["TEE"])
    on_time = captured_order(external_id="ONTIME", skus=["TEE"])
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=late.pk)
        orchestrate_order(order_id=on_time.pk)
    now = timezone.now()
    FulfillmentOrder.objects.filter(order=late).update(ship_by=now - timedelta(hours=1))
    FulfillmentOrder.objects.filter(order=on_time).update(ship_by=now + timedelta(hours=1))

    raised = detect_late_fulfillments(now=now)

    case = ExceptionCase.objects.get(pk__in=raised)
    assert (case.kind, case.subject_type, case.order_id) == (
        "late_shipment",
        "fulfillment",
        late.pk,
    )
    assert len(raised) == 1


def test_aged_backorders_only_older_than_n_days(django_capture_on_commit_callbacks):
    ProductFactory(sku="NONE")
    order = captured_order(skus=["NONE"])
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    assert not ExceptionCase.objects.exists()  # backordered is normal until it ages

    assert detect_aged_backorders(now=timezone.now() + timedelta(days=2)) == []
    raised = detect_aged_backorders(now=timezone.now() + timedelta(days=4))
    again = detect_aged_backorders(now=timezone.now() + timedelta(days=4))

    assert raised == again
    case = ExceptionCase.objects.get()
    assert (case.kind, case.order_id, case.details["age_days"], case.occurrences) == (
        "backorder_aged",
        order.pk,
        4,
        2,
    )


def test_stale_feeds_only_for_nodes_with_stock():
    product = ProductFactory(sku="TEE")
    stale = NodeFactory(code="dc-stale")
    fresh = NodeFactory(code="dc-fresh")
    empty = NodeFactory(code="dc-empty")
    stocked(stale, product, on_hand=3)
    stocked(fresh, product, on_hand=3)
    stocked(empty, product, on_hand=0)
    now = timezone.now()
    StockLevel.objects.filter(node=stale).update(last_reported_at=now - timedelta(hours=30))
    StockLevel.objects.filter(node__in=[fresh, empty]).update(
        last_reported_at=now - timedelta(hours=30)
    )
    StockLevel.objects.filter(node=fresh).update(last_reported_at=now - timedelta(hours=1))

    raised = detect_stale_feeds(now=now)

    assert [ExceptionCase.objects.get(pk=pk).subject_label for pk in raised] == ["dc-stale"]


def test_run_detectors_on_a_quiet_system_raises_nothing():
    assert run_detectors() == {
        "config_invalid": 0,
        "resolved": 0,
        "stuck_orders": 0,
        "late_fulfillments": 0,
        "aged_backorders": 0,
        "stale_feeds": 0,
    }
    assert not ExceptionCase.objects.exists()
