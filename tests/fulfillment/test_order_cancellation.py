"""Cancelling units and changing orders through fulfillment's services (the API's and the
admin's one way in): at once before release, by a node request after, never what shipped;
exact stock, ledger, events and webhooks."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentStatus, NodeRequest
from fulfillment.services.feedback import accept_fulfillment
from fulfillment.services.fulfillment_orders import create_fulfillment_orders, release_fulfillment
from fulfillment.services.node_requests import (
    confirm_node_request,
    refuse_node_request,
    send_node_request,
)
from fulfillment.services.order_cancellation import cancel_line_units, cancel_order
from fulfillment.services.order_changes import change_order
from fulfillment.services.routing import route_order
from fulfillment.services.shipping import Package, ship_fulfillment
from fulfillment.services.sweeper import find_due_work
from fulfillment.tasks import sweep_due_work_task
from integrations.models import WebhookDelivery
from inventory.models import InventoryMovement, StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from oms.events.outbound import outbound_payload
from orders.models import HoldKind, LineStatus, OrderLine, OrderStatus, PaymentTransaction
from orders.payments import script_simulated_payment
from orders.services.changes import ChangeRequest
from orders.services.holds import place_hold
from orders.services.payments import authorize_payment
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order
from webhooks import ssrf
from webhooks.relay import relay_events
from webhooks.subscriptions import create_subscription

pytestmark = pytest.mark.django_db

CS = Actor.system("customer-service")
NODE = Actor.system("wms")
NEW_ADDRESS = {
    "line1": "350 5th Ave",
    "city": "New York",
    "region": "NY",
    "postal_code": "10118",
    "country": "US",
}


@pytest.fixture
def dc(db):
    dc = NodeFactory(code="dc-east", connector="api")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=10)
    return dc


def _routed(quantity=3, *, hold=True, external_id="EXT-1"):
    """An order for `quantity` TEE routed to dc-east; held, so its fulfillment order waits."""
    order = captured_order(skus=["TEE"], quantity=quantity, external_id=external_id)
    if hold:
        place_hold(order_id=order.pk, kind=HoldKind.MANUAL, reason="check", actor=CS)
    with transaction.atomic():
        route_order(order_id=order.pk, actor=CS, trigger="capture")
        create_fulfillment_orders(order=order, actor=CS)
    return order, FulfillmentOrder.objects.get(order=order)


def _at_node(quantity=3):
    """The same order released to the (API) node and accepted."""
    order = captured_order(skus=["TEE"], quantity=quantity)
    with transaction.atomic():
        route_order(order_id=order.pk, actor=CS, trigger="capture")
        create_fulfillment_orders(order=order, actor=CS)
    fo = FulfillmentOrder.objects.get(order=order)
    assert release_fulfillment(fulfillment_id=fo.pk) == "released"
    accept_fulfillment(fulfillment_id=fo.pk, actor=NODE)
    return order, fo


def stock():
    level = StockLevel.objects.get(node__code="dc-east", product__sku="TEE")
    return level.on_hand, level.reserved


def ledger(order):
    return list(
        InventoryMovement.objects.filter(reference_id=order.number)
        .order_by("id")
        .values_list("reason", "delta_on_hand", "delta_reserved")
    )


def types(order):
    return list(
        Event.objects.for_stream(order.stream).order_by("seq").values_list("type", flat=True)
    )


def payloads(order, type_):
    return [
        e.payload for e in Event.objects.for_stream(order.stream).filter(type=type_).order_by("seq")
    ]


def test_two_of_three_units_of_a_pending_line_leave_its_fulfillment_line(dc):
    order, fo = _routed(3)

    outcome = cancel_line_units(order_id=order.pk, line_number=1, quantity=2, actor=CS, reason="x")

    line = OrderLine.objects.get(order=order)
    [fl] = fo.lines.all()
    assert (outcome.cancelled, outcome.requested) == ([{"line_number": 1, "quantity": 2}], [])
    assert (line.quantity, line.cancelled_quantity, line.status) == (3, 2, LineStatus.ALLOCATED)
    assert (fl.quantity, fl.reservation.quantity) == (1, 1)
    assert stock() == (10, 1)
    assert ledger(order) == [("reservation", 0, 3), ("release", 0, -2)]
    [cancelled] = payloads(order, "order.line_cancelled")
    assert (cancelled["quantity"], cancelled["remaining"], cancelled["actor"]) == (
        2,
        1,
        "customer-service",
    )
    assert payloads(order, "fulfillment.line_removed")[0]["units"] == 2
    assert find_ledger_mismatches() == []


def test_cancelling_the_rest_cancels_the_order_once(dc):
    order, fo = _routed(3)
    cancel_line_units(order_id=order.pk, line_number=1, quantity=1, actor=CS, reason="one")

    outcome = cancel_order(order_id=order.pk, actor=CS, reason="all of it")
    with pytest.raises(DomainError) as again:
        cancel_order(order_id=order.pk, actor=CS, reason="again")

    order.refresh_from_db()
    fo.refresh_from_db()
    assert outcome.status == order.status == OrderStatus.CANCELLED
    assert (order.cancel_reason, fo.status) == ("all of it", FulfillmentStatus.CANCELLED)
    assert again.value.code == "not_cancellable"
    assert types(order).count("order.cancelled") == 1
    assert payloads(order, "order.cancelled")[0]["reason"] == "all of it"
    assert stock() == (10, 0)
    assert find_ledger_mismatches() == []


def test_units_at_a_node_are_asked_back_and_released_only_when_it_confirms(dc):
    order, fo = _at_node(3)

    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        outcome = cancel_line_units(
            order_id=order.pk, line_number=1, quantity=1, actor=CS, reason="too many"
        )
        asked_twice = cancel_line_units(
            order_id=order.pk, line_number=1, quantity=2, actor=CS, reason="the rest"
        )
    stock_while_waiting = stock()
    confirm_node_request(
        fulfillment_id=fo.pk, request_id=outcome.requested[0]["request"], actor=NODE
    )
    refuse_node_request(
        fulfillment_id=fo.pk,
        request_id=asked_twice.requested[0]["request"],
        actor=NODE,
        reason="already packed and labelled",
    )

    line = OrderLine.objects.get(order=order)
    fo.refresh_from_db()
    assert [r["units"] for r in outcome.requested + asked_twice.requested] == [1, 2]
    assert stock_while_waiting == (10, 3)
    assert stock() == (10, 2)
    assert (line.cancelled_quantity, fo.status, fo.lines.get().quantity) == (1, "accepted", 2)
    assert [r.status for r in NodeRequest.objects.order_by("id")] == ["confirmed", "refused"]
    [refused] = payloads(order, "order.cancel_refused")
    assert (refused["code"], refused["lines"][0]["quantity"]) == ("already_shipped", 2)
    assert ledger(order) == [("reservation", 0, 3), ("release", 0, -1)]
    assert find_ledger_mismatches() == []


def test_shipping_with_a_cancel_request_open_refuses_it(dc):
    order, fo = _at_node(2)
    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        cancel_order(order_id=order.pk, actor=CS, reason="late")

    ship_fulfillment(fulfillment_id=fo.pk, packages=[Package("UPS", "", "1Z1")], actor=NODE)

    with pytest.raises(DomainError) as nothing_left:
        cancel_order(order_id=order.pk, actor=CS, reason="again")
    assert NodeRequest.objects.get().status == "refused"
    assert payloads(order, "order.cancel_refused")[0]["code"] == "already_shipped"
    assert nothing_left.value.code == "not_cancellable"
    assert stock() == (8, 0)


def test_before_release_service_level_notes_and_address_apply_and_re_route(
    dc, django_capture_on_commit_callbacks
):
    order, fo = _routed(2, hold=False)

    with (
        mock.patch("fulfillment.tasks.orchestrate_order_task.delay") as orchestrate,
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = change_order(
            order_id=order.pk,
            change=ChangeRequest(
                address=NEW_ADDRESS, service_level="express", internal_notes="VIP"
            ),
            actor=CS,
            reason="customer called",
        )

    order.refresh_from_db()
    fo.refresh_from_db()
    assert outcome.rerouted is True
    assert (order.ship_city, order.service_level, order.internal_notes) == (
        "New York",
        "express",
        "VIP",
    )
    assert fo.status == FulfillmentStatus.CANCELLED
    assert stock() == (10, 0)
    [changed] = payloads(order, "order.changed")
    assert sorted(changed["changes"]) == ["internal_notes", "service_level", "shipping_address"]
    assert (changed["reason"], changed["rerouted"]) == ("customer called", True)
    assert orchestrate.call_args.args == (order.pk, "address_changed")


def test_after_release_an_address_is_a_request_and_the_service_level_is_refused(dc):
    order, fo = _at_node(1)

    with pytest.raises(DomainError) as refused:
        change_order(
            order_id=order.pk,
            change=ChangeRequest(service_level="express"),
            actor=CS,
            reason="upgrade",
        )
    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        outcome = change_order(
            order_id=order.pk, change=ChangeRequest(address=NEW_ADDRESS), actor=CS, reason="moved"
        )
    order.refresh_from_db()
    city_before = order.ship_city
    confirm_node_request(
        fulfillment_id=fo.pk, request_id=outcome.requested[0]["request"], actor=NODE
    )

    order.refresh_from_db()
    assert refused.value.code == "not_changeable"
    assert (city_before, order.ship_city) == ("Columbus", "New York")
    requested, applied = payloads(order, "order.changed")
    assert (requested["changes"], requested["requested"]) == ({}, [outcome.requested[0]["request"]])
    assert applied["confirmed_by"] == "wms"


def test_the_new_events_go_out_as_webhooks(dc, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.215.14"])
    subscription = create_subscription(
        name="cs tool",
        url="https://cs.example.com/hooks",
        event_types=["order.cancelled", "order.line_cancelled", "order.cancel_requested"],
    )
    order, _ = _routed(2)
    cancel_order(order_id=order.pk, actor=CS, reason="customer changed their mind")

    relay_events()

    sent = {
        d.event.type: outbound_payload(d.event)
        for d in WebhookDelivery.objects.filter(subscription=subscription).select_related("event")
    }
    assert sorted(sent) == ["order.cancelled", "order.line_cancelled"]
    assert (sent["order.cancelled"]["reason"], sent["order.cancelled"]["actor"]) == (
        "customer changed their mind",
        "customer-service",
    )
    assert sent["order.line_cancelled"]["quantity"] == 2


def test_the_sweeper_cancels_an_order_whose_payment_failed_long_ago(dc, settings, monkeypatch):
    settings.OMS_UNPAID_ORDER_CANCEL_HOURS = 48
    unpaid, _ = _routed(2)
    paid, _ = _routed(1, external_id="EXT-2")
    script_simulated_payment(order_number=unpaid.number, kind="authorize", outcome="decline")
    authorize_payment(order_id=unpaid.pk, amount=unpaid.grand_total, actor=CS, idempotency_key="a")
    later = timezone.now() + timedelta(hours=49)

    too_early = find_due_work(now=timezone.now()).unpaid
    monkeypatch.setattr("fulfillment.tasks.timezone.now", lambda: later)
    sweep_due_work_task()

    unpaid.refresh_from_db()
    paid.refresh_from_db()
    assert (too_early, unpaid.status, paid.status) == ([], "cancelled", "allocated")
    [cancelled] = payloads(unpaid, "order.cancelled")
    assert cancelled["reason"] == "payment failed and not fixed in 48 h"
    assert cancelled["actor"] == "unpaid orders"
    assert stock() == (10, 1)


def test_units_cancelled_before_routing_are_never_reserved(dc):
    order = captured_order(skus=["TEE"], quantity=3)
    cancel_line_units(order_id=order.pk, line_number=1, quantity=1, actor=CS, reason="two")

    with transaction.atomic():
        route_order(order_id=order.pk, actor=CS, trigger="capture")

    assert stock() == (10, 2)
    assert ledger(order) == [("reservation", 0, 2)]


def test_a_file_node_gets_a_940_cancel_for_the_units_asked_back(dc, settings, tmp_path):
    settings.OMS_X12_OUTBOX_DIR = str(tmp_path)
    dc.connector = "x12_file"
    dc.save(update_fields=["connector"])
    order, fo = _at_node(3)
    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        outcome = cancel_line_units(
            order_id=order.pk, line_number=1, quantity=2, actor=CS, reason="two fewer"
        )
    request_id = outcome.requested[0]["request"]

    assert send_node_request(request_id=request_id) == "sent"
    assert send_node_request(request_id=request_id) == "not_due"

    text = (tmp_path / "dc-east" / f"{fo.number}-cancel-{request_id}.edi").read_text()
    assert f"W05*F*{fo.number}*{order.number}~" in text
    assert "W01*2*EA**SK*TEE" in text
    assert NodeRequest.objects.get(pk=request_id).sent_at is not None


def test_a_node_confirming_the_whole_order_cancels_it_once(dc):
    order, fo = _at_node(2)
    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        outcome = cancel_order(order_id=order.pk, actor=CS, reason="changed mind")

    confirm_node_request(
        fulfillment_id=fo.pk, request_id=outcome.requested[0]["request"], actor=NODE
    )

    order.refresh_from_db()
    fo.refresh_from_db()
    assert (order.status, fo.status) == (OrderStatus.CANCELLED, FulfillmentStatus.CANCELLED)
    assert types(order).count("order.cancelled") == 1
    [cancelled] = payloads(order, "order.cancelled")
    assert (cancelled["reason"], cancelled["actor"]) == ("changed mind", "customer-service")
    assert stock() == (10, 0)


def test_a_late_cancel_the_node_confirms_after_the_rest_shipped_captures_at_once(
    dc, django_capture_on_commit_callbacks
):
    # given: TEE (dc-east) shipped, MUG accepted at dc-west; nothing captured yet
    west = NodeFactory(code="dc-west", connector="api")
    stocked(west, ProductFactory(sku="MUG"), on_hand=5)
    order = captured_order(skus=["TEE", "MUG"], shipping_total=Decimal("5.00"))
    with transaction.atomic():
        route_order(order_id=order.pk, actor=CS, trigger="capture")
        create_fulfillment_orders(order=order, actor=CS)
    tee_fo = FulfillmentOrder.objects.get(order=order, node=dc)
    mug_fo = FulfillmentOrder.objects.get(order=order, node=west)
    for fo in (tee_fo, mug_fo):
        assert release_fulfillment(fulfillment_id=fo.pk) == "released"
        accept_fulfillment(fulfillment_id=fo.pk, actor=NODE)
    ship_fulfillment(fulfillment_id=tee_fo.pk, packages=[Package("UPS", "", "1Z9")], actor=NODE)
    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        outcome = cancel_line_units(
            order_id=order.pk, line_number=2, quantity=1, actor=CS, reason="too late for it"
        )
    captured_before = PaymentTransaction.objects.filter(order=order).count()

    # when: the node confirms; what the commit schedules runs (no sweeper)
    with django_capture_on_commit_callbacks(execute=True):
        confirm_node_request(
            fulfillment_id=mug_fo.pk, request_id=outcome.requested[0]["request"], actor=NODE
        )

    # then: the tee and the shipping are charged now; the mug never
    order.refresh_from_db()
    assert captured_before == 0
    assert (order.status, order.payment_status) == (OrderStatus.SHIPPED, "paid")
    assert list(
        PaymentTransaction.objects.filter(order=order).values_list("kind", "amount", "status")
    ) == [("capture", Decimal("15.0000"), "succeeded")]
    assert types(order).count("order.payment_captured") == 1
    assert find_due_work(now=timezone.now() + timedelta(hours=1)).capture == []


def test_cancelling_units_while_others_still_wait_captures_nothing(
    dc, django_capture_on_commit_callbacks
):
    # given: 3 TEE accepted at the node, nothing shipped
    order, fo = _at_node(3)

    # when: one unit is asked back and confirmed
    with mock.patch("fulfillment.tasks.send_node_request_task.delay"):
        outcome = cancel_line_units(
            order_id=order.pk, line_number=1, quantity=1, actor=CS, reason="one less"
        )
    with django_capture_on_commit_callbacks(execute=True):
        confirm_node_request(
            fulfillment_id=fo.pk, request_id=outcome.requested[0]["request"], actor=NODE
        )

    # then: two units still to ship, so nothing is charged
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RELEASED, "pending")
    assert not PaymentTransaction.objects.filter(order=order).exists()
