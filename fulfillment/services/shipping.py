"""Parcels leave the node (ship), carriers report progress (tracking), the customer has it
(deliver). Shipping consumes the reservations: on_hand and reserved both fall, in the ledger.

Tracking updates are inbound messages (kind `tracking`, docs/inbound.md). A refused one is kept
as failed and retried by us (AfterFailure.RETRY): the webhook answers the carrier 200 whatever
happens to each update, so the carrier never sends it again; after the last attempt it is dead
with an exception case, and a person can re-process it (`reprocess_tracking`)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

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
    reused_for_fulfillment,
    schedule_payment_capture_if_due,
    transition,
)
from fulfillment.services.rollup import rollup_order
from integrations.carriers import TrackingUpdate
from integrations.models import InboundMessage
from integrations.services import (
    AfterFailure,
    MessageIdReused,
    finish_message,
    receive_message,
    record_failure,
)
from oms.core.actors import Actor
from oms.core.errors import DomainError, FieldError, InvalidInput, NotFound
from oms.events.services import record_event

logger = logging.getLogger(__name__)


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
    that was picked); fewer than ordered is a short shipment: like a short pick, the missing
    units are written off the node's on-hand (a cycle count follows) and rerouted.
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
        # Quantities were settled at pack (shorts already written off the node's on-hand); a
        # node that ships straight from accepted or picking settles them now, the same way.
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
            subject=fo,  # open node requests are refused: the parcel left (handlers.py)
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


TRACKING_KIND = "tracking"  # the inbound message kind of one parcel's update
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
        try:
            received = receive_message(
                source=source,
                message_id=message_id,
                kind=TRACKING_KIND,
                payload=tracking_payload(update),
                subject=fo.number,
            )
        except MessageIdReused as exc:
            raise reused_for_fulfillment(exc) from None
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
            delivered_at = shipment.delivered_at or timezone.now()
            fo.deliver(at=delivered_at)
            fo.save(update_fields=["status", "delivered_at", "updated_at"])
            record_event(
                stream=order.stream,
                type=FULFILLMENT_DELIVERED,
                actor=actor,
                payload={"fulfillment": fo.number, "delivered_at": delivered_at.isoformat()},
            )
            rollup_order(order)
        finish_message(
            received.message, result={"shipment": shipment.pk, "status": shipment.status}
        )
    return shipment


def tracking_payload(update: TrackingInput) -> dict[str, Any]:
    """The update as logged JSON: everything applying it reads, so it can be applied again
    from the log (tracking_from_payload)."""
    return {
        "carrier": update.carrier,
        "tracking_number": update.tracking_number,
        "status": update.status,
        "occurred_at": update.occurred_at.isoformat(),
        "description": update.description,
        "location": update.location,
        "events": [[e[0].isoformat(), e[1], e[2], e[3]] for e in update.events],
    }


def tracking_from_payload(payload: dict[str, Any]) -> TrackingInput:
    """The update back from its logged JSON: tracking_payload(tracking_from_payload(p)) == p,
    so applying it again matches the logged message's fingerprint."""
    return TrackingInput(
        carrier=payload["carrier"],
        tracking_number=payload["tracking_number"],
        status=payload["status"],
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
        description=payload.get("description", ""),
        location=payload.get("location", ""),
        events=tuple(
            (datetime.fromisoformat(when), status, text, where)
            for when, status, text, where in payload.get("events") or []
        ),
    )


def tracking_input(update: TrackingUpdate) -> TrackingInput:
    """A carrier adapter's parsed update → what record_tracking applies."""
    return TrackingInput(
        carrier=update.carrier,
        tracking_number=update.tracking_number,
        status=update.status,
        occurred_at=update.occurred_at,
        description=update.status_detail,
        location=update.location or "",
        events=tuple(
            (e.occurred_at, e.status, e.description, e.location or "") for e in update.events
        ),
    )


@dataclass(frozen=True)
class TrackingResult:
    received: int
    applied: int
    unknown_tracking_numbers: int
    refused: int = 0  # kept as failed inbound messages, retried by us


def apply_tracking_updates(
    updates: list[TrackingUpdate], *, source: str, message_id: str, actor: Actor
) -> TrackingResult:
    """Apply a carrier's parsed tracking updates (webhook or simulated carrier), each once:
    its message id is the provider's, else `message_id`, per tracking number.

    Each update is applied on its own. A refused one does not hold the others back: it is kept
    as a failed `tracking` message that we retry (the carrier is answered 200 and will not send
    it again), then dead with an exception case. An update whose id was already used for other
    content (`message_id_reused`) cannot be kept under that id: it is raised after the others
    were applied, so the carrier is answered 409 as before."""
    applied = unknown = refused = 0
    reused: MessageIdReused | None = None
    for parsed in updates:
        update = tracking_input(parsed)
        update_id = f"{parsed.message_id or message_id}:{parsed.tracking_number}"
        try:
            shipment = record_tracking(
                update=update, source=source, message_id=update_id, actor=actor
            )
        except MessageIdReused as exc:
            reused = reused or exc
            continue
        except DomainError as exc:
            _keep_refused(update, source=source, message_id=update_id, error=exc)
            refused += 1
            continue
        applied += shipment is not None
        unknown += shipment is None
    if reused is not None:
        raise reused
    return TrackingResult(
        received=len(updates), applied=applied, unknown_tracking_numbers=unknown, refused=refused
    )


def _keep_refused(
    update: TrackingInput, *, source: str, message_id: str, error: DomainError
) -> None:
    number = (
        Shipment.objects.filter(
            carrier__iexact=update.carrier, tracking_number=update.tracking_number
        )
        .values_list("fulfillment__number", flat=True)
        .order_by()
        .first()
    )
    message = record_failure(
        source=source,
        message_id=message_id,
        kind=TRACKING_KIND,
        payload=tracking_payload(update),
        error=error,
        subject=number or "",
        then=AfterFailure.RETRY,
    )
    logger.warning(
        "tracking update refused, kept for retry",
        extra={"inbound_message": message.pk, "code": error.code, "status": message.status},
    )


def reprocess_tracking(message: InboundMessage, actor: Actor) -> dict[str, Any]:
    """Apply a logged tracking update again, under its (source, message id): the automatic
    retry or a person (integrations/inbound.py, registered in fulfillment/apps.py)."""
    update = tracking_from_payload(message.payload)
    shipment = record_tracking(
        update=update, source=message.source, message_id=message.message_id, actor=actor
    )
    if shipment is None:
        raise NotFound(
            f"No {update.carrier} shipment with tracking number {update.tracking_number}.",
            code="shipment_not_found",
        )
    return {"shipment": shipment.pk, "status": shipment.status}
