"""Parcels leave the node (ship), carriers report progress (tracking), the customer has it
(deliver). Shipping consumes the reservations: on_hand and reserved both fall, in the ledger."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fulfillment.events import (
    FULFILLMENT_DELIVERED,
    FULFILLMENT_SHIPPED,
    SHIPMENT_TRACKING_UPDATED,
)
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    TrackingEvent,
)
from fulfillment.services.feedback import (
    FeedbackMessage,
    consume_lines,
    feedback,
    lock_fulfillment,
    record_picked,
    schedule_payment_capture_if_due,
    transition,
)
from fulfillment.services.rollup import rollup_order
from integrations.carriers import TrackingUpdate
from integrations.services import finish_message, receive_message
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from oms.events.services import record_event


@dataclass(frozen=True)
class Package:
    carrier: str
    tracking_number: str
    service: str = ""
    label_pdf: bytes | None = None
    cost: Decimal | None = None
    currency: str = ""
    # fulfillment line id → units in this parcel; empty: everything shipped, in this parcel.
    lines: dict[int, int] = field(default_factory=dict)


def ship_fulfillment(
    *,
    fulfillment_id: int,
    packages: list[Package],
    actor: Actor,
    shipped: dict[int, int] | None = None,
    short_reason: str = "",
    shipped_at: datetime | None = None,
    message: FeedbackMessage | None = None,
) -> FulfillmentOrder:
    """Parcels left the node. `shipped` maps fulfillment line id → units shipped (default: all
    that was picked); fewer than ordered is a short shipment, rerouted like a short pick.
    Consumes the reservations, records fulfillment.shipped, schedules payment capture."""
    if not packages:
        raise InvalidInput(
            [
                FieldError(
                    "packages_required",
                    "Give at least one package with its carrier and tracking number.",
                    "packages",
                )
            ]
        )
    with feedback(fulfillment_id, message, "fulfillment.ship") as state:
        if state.duplicate:
            return state.fo
        fo = state.fo
        at = shipped_at or timezone.now()
        was_packed = fo.status == FulfillmentStatus.PACKED
        transition(fo, "ship", at=at)
        fo.save(update_fields=["status", "accepted_at", "shipped_at", "updated_at"])
        # Quantities were settled at pack (shorts already given back); a node that ships
        # straight from accepted or picking settles them now.
        shorts = (
            []
            if was_packed
            else record_picked(state, shipped or {}, short_reason or "short shipped", actor)
        )
        fo_lines = {line.pk: line for line in fo.lines.select_related("order_line")}
        sent = {pk: line.quantity - line.short_quantity for pk, line in fo_lines.items()}
        consume_lines(fo, actor, sent)
        parcels = [_create_shipment(fo, package, at, sent) for package in packages]
        record_event(
            stream=state.order.stream,
            type=FULFILLMENT_SHIPPED,
            actor=actor,
            payload={
                "fulfillment": fo.number,
                "node": fo.node.code,
                "shipped_at": at.isoformat(),
                "packages": [
                    {
                        "carrier": p.carrier,
                        "service": p.service,
                        "tracking_number": p.tracking_number,
                    }
                    for p in parcels
                ],
                "lines": [
                    {
                        "line_number": line.order_line.line_number,
                        "sku": line.order_line.sku,
                        "quantity": sent[pk],
                    }
                    for pk, line in sorted(fo_lines.items())
                    if sent[pk]
                ],
                "short": shorts,
            },
        )
        state.reroute = bool(shorts)
        state.result["tracking_numbers"] = [p.tracking_number for p in parcels]
    schedule_payment_capture_if_due(state.order.pk)
    return state.fo


def _create_shipment(
    fo: FulfillmentOrder, package: Package, at: datetime, sent: dict[int, int]
) -> Shipment:
    shipment = Shipment(
        fulfillment=fo,
        carrier=package.carrier[:50],
        service=package.service[:50],
        tracking_number=package.tracking_number[:60],
        label_pdf=package.label_pdf,
        cost=package.cost,
        currency=package.currency,
        shipped_at=at,
    )
    shipment.save(force_insert=True)
    contents = package.lines or {pk: qty for pk, qty in sent.items() if qty}
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=shipment, fulfillment_line_id=pk, quantity=qty)
            for pk, qty in sorted(contents.items())
            if qty > 0
        ]
    )
    return shipment


def deliver_fulfillment(
    *,
    fulfillment_id: int,
    actor: Actor,
    delivered_at: datetime | None = None,
    message: FeedbackMessage | None = None,
) -> FulfillmentOrder:
    with feedback(fulfillment_id, message, "fulfillment.deliver") as state:
        if state.duplicate:
            return state.fo
        at = delivered_at or timezone.now()
        transition(state.fo, "deliver", at=at)
        state.fo.save(update_fields=["status", "delivered_at", "updated_at"])
        state.fo.shipments.filter(delivered_at__isnull=True).update(
            status=ShipmentStatus.DELIVERED, delivered_at=at
        )  # rule-ok: not an FSM field
        record_event(
            stream=state.order.stream,
            type=FULFILLMENT_DELIVERED,
            actor=actor,
            payload={"fulfillment": state.fo.number, "delivered_at": at.isoformat()},
        )
    schedule_payment_capture_if_due(state.order.pk)
    return state.fo


@dataclass(frozen=True)
class TrackingInput:
    carrier: str
    tracking_number: str
    status: str  # pre_transit | in_transit | out_for_delivery | delivered | exception | ...
    occurred_at: datetime
    description: str = ""
    location: str = ""
    events: tuple[tuple[datetime, str, str, str], ...] = ()  # (when, status, text, where)


FINAL_SCAN_STATUSES = ("delivered", "returned")
_SHIPMENT_STATUS = {
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "pre_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "delivered": ShipmentStatus.DELIVERED,
    "exception": ShipmentStatus.EXCEPTION,
    "returned": ShipmentStatus.RETURNED,
}


def record_tracking(
    *, update: TrackingInput, source: str, message_id: str, actor: Actor
) -> Shipment | None:
    """Apply a carrier's tracking update. Scans are kept once each; the shipment's status is
    its newest scan's (carriers resend and reorder). When every parcel of a fulfillment order is
    delivered, the fulfillment order is delivered. Returns None for an unknown tracking number
    (acknowledged: carriers send updates for parcels that are not ours)."""
    shipment_row = (
        Shipment.objects.filter(
            carrier__iexact=update.carrier, tracking_number=update.tracking_number
        )
        .values_list("pk", "fulfillment_id")
        .order_by()
        .first()
    )
    if shipment_row is None:
        return None
    shipment_id, fulfillment_id = shipment_row
    with transaction.atomic():
        order, fo = lock_fulfillment(fulfillment_id)
        received = receive_message(
            source=source,
            message_id=message_id,
            kind="tracking",
            payload=_tracking_payload(update),
            subject=fo.number,
        )
        shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment_id)
        if received.duplicate:
            return shipment
        scans = list(update.events) or [
            (update.occurred_at, update.status, update.description, update.location)
        ]
        for when, status, text, where in scans:
            TrackingEvent.objects.get_or_create(
                shipment=shipment,
                occurred_at=when,
                status=status,
                defaults={
                    "description": text[:300],
                    "location": where[:200],
                    "source": source[:50],
                },
            )
        # The newest scan sets the status, except that a final scan (delivered, returned)
        # wins whatever its time: carriers' clocks and feeds disagree (a real EasyPost/UPS
        # payload dates DELIVERED before OUT_FOR_DELIVERY).
        newest = (
            shipment.tracking.filter(status__in=FINAL_SCAN_STATUSES)
            .order_by("-occurred_at", "-id")
            .first()
            or shipment.tracking.order_by("-occurred_at", "-id").first()
        )
        changed = False
        if newest is not None and (newest.occurred_at, _SHIPMENT_STATUS.get(newest.status)) != (
            shipment.last_event_at,
            shipment.status,
        ):
            shipment.status = _SHIPMENT_STATUS.get(newest.status, shipment.status)
            shipment.last_event_at = newest.occurred_at
            if shipment.status == ShipmentStatus.DELIVERED and shipment.delivered_at is None:
                shipment.delivered_at = newest.occurred_at
            shipment.save(update_fields=["status", "last_event_at", "delivered_at", "updated_at"])
            changed = True
            record_event(
                stream=order.stream,
                type=SHIPMENT_TRACKING_UPDATED,
                actor=actor,
                payload={
                    "fulfillment": fo.number,
                    "carrier": shipment.carrier,
                    "tracking_number": shipment.tracking_number,
                    "status": shipment.status,
                    "occurred_at": newest.occurred_at.isoformat(),
                    "location": newest.location,
                },
            )
        all_delivered = not fo.shipments.exclude(status=ShipmentStatus.DELIVERED).exists()
        if changed and all_delivered and fo.status == FulfillmentStatus.SHIPPED:
            fo.deliver(at=shipment.delivered_at or timezone.now())
            fo.save(update_fields=["status", "delivered_at", "updated_at"])
            record_event(
                stream=order.stream,
                type=FULFILLMENT_DELIVERED,
                actor=actor,
                payload={"fulfillment": fo.number, "delivered_at": fo.delivered_at.isoformat()},
            )
            rollup_order(order)
        finish_message(
            received.message, result={"shipment": shipment.pk, "status": shipment.status}
        )
    return shipment


def _tracking_payload(update: TrackingInput) -> dict[str, object]:
    return {
        "carrier": update.carrier,
        "tracking_number": update.tracking_number,
        "status": update.status,
        "occurred_at": update.occurred_at.isoformat(),
        "events": [[e[0].isoformat(), e[1], e[2], e[3]] for e in update.events],
    }


@dataclass(frozen=True)
class TrackingResult:
    received: int
    applied: int
    unknown_tracking_numbers: int


def apply_tracking_updates(
    updates: list[TrackingUpdate], *, source: str, message_id: str, actor: Actor
) -> TrackingResult:
    """Apply a carrier's parsed tracking updates (webhook or simulated carrier), each once:
    its message id is the provider's, else `message_id`, per tracking number."""
    applied = unknown = 0
    for update in updates:
        shipment = record_tracking(
            update=TrackingInput(
                carrier=update.carrier,
                tracking_number=update.tracking_number,
                status=update.status,
                occurred_at=update.occurred_at,
                description=update.status_detail,
                location=update.location or "",
                events=tuple(
                    (e.occurred_at, e.status, e.description, e.location or "")
                    for e in update.events
                ),
            ),
            source=source,
            message_id=f"{update.message_id or message_id}:{update.tracking_number}",
            actor=actor,
        )
        applied += shipment is not None
        unknown += shipment is None
    return TrackingResult(received=len(updates), applied=applied, unknown_tracking_numbers=unknown)
