"""Returns the system opens itself: a parcel returned to sender, a cancel refused because the
parcel had shipped."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services.shipping import TrackingInput, record_tracking
from oms.events.models import Event
from oms.events.services import record_event
from orders.events import ORDER_CANCEL_REFUSED
from returns.models import Return
from returns.services.requests import cancel_return
from tests.returns.support import SYSTEM, shipped_order

pytestmark = pytest.mark.django_db


def test_a_parcel_returned_to_sender_opens_one_authorized_return(nodes):
    order = shipped_order(nodes["dc"], external_id="H1", lines=[("TEE", 2, "20.00")])
    shipment = Shipment.objects.get(fulfillment__order=order)
    update = TrackingInput(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status="returned",
        occurred_at=timezone.now(),
        description="Returned to sender",
    )

    record_tracking(update=update, source="carrier:test", message_id="rts-1", actor=SYSTEM)
    record_tracking(update=update, source="carrier:test", message_id="rts-2", actor=SYSTEM)

    rma = Return.objects.get()
    assert (rma.source, rma.status, rma.source_shipment_id) == (
        "returned_to_sender",
        "authorized",
        shipment.pk,
    )
    assert rma.return_node == nodes["dc"]
    assert [(line.quantity, line.reason_code) for line in rma.lines.all()] == [
        (2, "returned_to_sender")
    ]


def test_a_second_returned_scan_of_the_same_parcel_opens_no_second_return(nodes):
    """Carriers send more than one 'returned' scan (returned, then back at the shipper): each
    newer scan records shipment.tracking_updated again. Even with the first return cancelled
    meanwhile (its units free to return again), the parcel keeps its one return."""
    order = shipped_order(nodes["dc"], external_id="H4", lines=[("TEE", 2, "20.00")])
    shipment = Shipment.objects.get(fulfillment__order=order)

    def scan(n, when):
        record_tracking(
            update=TrackingInput(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                status="returned",
                occurred_at=when,
                description="Returned to sender",
            ),
            source="carrier:test",
            message_id=f"rts-scan-{n}",
            actor=SYSTEM,
        )

    first = timezone.now()
    scan(1, first)
    cancel_return(return_id=Return.objects.get().pk, reason="opened by mistake", actor=SYSTEM)
    scan(2, first + timedelta(hours=5))

    returned = Event.objects.filter(
        stream=order.stream, type="shipment.tracking_updated", payload__status="returned"
    )
    assert returned.count() == 2
    assert list(Return.objects.filter(order=order).values_list("status", flat=True)) == [
        "cancelled"
    ]


def test_a_cancel_refused_because_shipped_becomes_a_return(nodes):
    order = shipped_order(nodes["dc"], external_id="H2", lines=[("TEE", 3, "20.00")])

    with transaction.atomic():
        record_event(
            stream=order.stream,
            type=ORDER_CANCEL_REFUSED,
            actor=SYSTEM,
            payload={
                "request": 1,
                "fulfillment": f"{order.number}-1",
                "node": "dc-columbus",
                "lines": [{"line_number": 1, "sku": "TEE", "quantity": 2}],
                "code": "already_shipped",
                "reason": "customer asked",
                "node_reason": "parcel left at 09:12",
            },
            subject=order,
        )

    rma = Return.objects.get()
    assert (rma.source, rma.status, rma.customer_note) == (
        "cancel_refused",
        "authorized",
        "customer asked",
    )
    assert [(line.quantity, line.reason_code) for line in rma.lines.all()] == [
        (2, "cancel_refused")
    ]


def _refuse_cancel(order, *, request, quantity):
    with transaction.atomic():
        record_event(
            stream=order.stream,
            type=ORDER_CANCEL_REFUSED,
            actor=SYSTEM,
            payload={
                "request": request,
                "fulfillment": f"{order.number}-1",
                "node": "dc-columbus",
                "lines": [{"line_number": 1, "sku": "TEE", "quantity": quantity}],
                "code": "already_shipped",
                "reason": "customer asked",
                "node_reason": "parcel left at 09:12",
            },
            subject=order,
        )


def test_the_same_refused_cancel_recorded_twice_opens_one_return(nodes):
    """One unit of three: a second return of one unit would still fit the counts, so only the
    request id keeps the repeated refusal from opening it; another request opens its own."""
    order = shipped_order(nodes["dc"], external_id="H3", lines=[("TEE", 3, "20.00")])

    _refuse_cancel(order, request=7, quantity=1)
    _refuse_cancel(order, request=7, quantity=1)
    assert [r.lines.get().quantity for r in Return.objects.filter(order=order)] == [1]

    _refuse_cancel(order, request=8, quantity=1)
    assert Return.objects.filter(order=order, source="cancel_refused").count() == 2
