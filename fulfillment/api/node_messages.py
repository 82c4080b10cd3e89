"""The node feedback messages, one table: the message kind, its URL, its input and the one
service it calls. The API views are built from it, and it applies a logged message again
(integrations/inbound.py, registered in fulfillment/apps.py) with the same validation."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from fulfillment.api.serializers import (
    DeliverInput,
    HandOverInput,
    MessageInput,
    PackInput,
    RejectInput,
    RequestAnswerInput,
    RequestRefusalInput,
    ShipInput,
)
from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import (
    FeedbackMessage,
    accept_fulfillment,
    hand_over,
    mark_ready_for_pickup,
    pack_fulfillment,
    reject_fulfillment,
    start_picking,
)
from fulfillment.services.node_requests import confirm_node_request, refuse_node_request
from fulfillment.services.shipping import Package, deliver_fulfillment, ship_fulfillment
from integrations.models import InboundMessage
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput, NotFound

Call = Callable[[int, dict[str, Any], Actor, FeedbackMessage], object]


@dataclass(frozen=True)
class NodeAction:
    kind: str  # the inbound message kind, as the feedback services log it
    path: str  # fulfillments/<number>/<path>/
    summary: str
    input: type[serializers.Serializer]
    call: Call


def _quantities(data: dict[str, Any]) -> dict[int, int]:
    return {line["line_id"]: line["quantity"] for line in data.get("lines") or []}


def _ship(fo: int, data: dict[str, Any], actor: Actor, message: FeedbackMessage) -> object:
    packages = [
        Package(carrier=p["carrier"], service=p["service"], tracking_number=p["tracking_number"])
        for p in data["packages"]
    ]
    return ship_fulfillment(
        fulfillment_id=fo,
        packages=packages,
        actor=actor,
        shipped=_quantities(data) or None,
        short_reason=data["short_reason"],
        shipped_at=data.get("shipped_at"),
        message=message,
    )


ACTIONS = (
    NodeAction(
        "fulfillment.accept",
        "accept",
        "The node accepts the work",
        MessageInput,
        lambda fo, data, actor, m: accept_fulfillment(fulfillment_id=fo, actor=actor, message=m),
    ),
    NodeAction(
        "fulfillment.reject",
        "reject",
        "The node refuses it (stock released, order rerouted)",
        RejectInput,
        lambda fo, data, actor, m: reject_fulfillment(
            fulfillment_id=fo, reason=data["reason"], actor=actor, message=m
        ),
    ),
    NodeAction(
        "fulfillment.pick",
        "pick",
        "Picking started",
        MessageInput,
        lambda fo, data, actor, m: start_picking(fulfillment_id=fo, actor=actor, message=m),
    ),
    NodeAction(
        "fulfillment.pack",
        "pack",
        "Picked and packed; short quantities leave the node's on-hand and are rerouted",
        PackInput,
        lambda fo, data, actor, m: pack_fulfillment(
            fulfillment_id=fo,
            picked=_quantities(data),
            short_reason=data["short_reason"],
            actor=actor,
            message=m,
        ),
    ),
    NodeAction(
        "fulfillment.ship",
        "ship",
        "Parcels left the node (consumes stock; shorts leave on-hand and are rerouted)",
        ShipInput,
        _ship,
    ),
    NodeAction(
        "fulfillment.deliver",
        "deliver",
        "Delivered to the customer",
        DeliverInput,
        lambda fo, data, actor, m: deliver_fulfillment(
            fulfillment_id=fo, actor=actor, delivered_at=data.get("delivered_at"), message=m
        ),
    ),
    NodeAction(
        "fulfillment.ready",
        "ready",
        "Ready for pickup at the store (issues the pickup code; customer notified)",
        MessageInput,
        lambda fo, data, actor, m: mark_ready_for_pickup(fulfillment_id=fo, actor=actor, message=m),
    ),
    NodeAction(
        "fulfillment.hand_over",
        "hand-over",
        "Handed to the customer after the pickup code matched",
        HandOverInput,
        lambda fo, data, actor, m: hand_over(
            fulfillment_id=fo, pickup_code=data["pickup_code"], actor=actor, message=m
        ),
    ),
    NodeAction(
        "fulfillment.confirm_request",
        "confirm-request",
        "The node did what an open request asked (cancel: the units are cancelled and their "
        "stock released; address change: applied)",
        RequestAnswerInput,
        lambda fo, data, actor, m: confirm_node_request(
            fulfillment_id=fo,
            request_id=data["request"],
            reason=data["reason"],
            actor=actor,
            message=m,
        ),
    ),
    NodeAction(
        "fulfillment.refuse_request",
        "refuse-request",
        "The node cannot do what an open request asked (already_shipped: the parcel left)",
        RequestRefusalInput,
        lambda fo, data, actor, m: refuse_node_request(
            fulfillment_id=fo,
            request_id=data["request"],
            code=data["code"],
            reason=data["reason"],
            actor=actor,
            message=m,
        ),
    ),
)
BY_KIND = {action.kind: action for action in ACTIONS}


def reprocess_node_message(message: InboundMessage, actor: Actor) -> dict[str, Any]:
    """Apply a logged node message again, as `actor` (the person or the retry)."""
    action = BY_KIND[message.kind]
    fo = FulfillmentOrder.objects.filter(number=message.subject).first()
    if fo is None:
        raise NotFound(f"No fulfillment order {message.subject!r}.", code="fulfillment_not_found")
    data = action.input(data=message.payload)
    if not data.is_valid():
        raise InvalidInput(
            [
                FieldError(field=name, code="invalid", detail=str(problems))
                for name, problems in data.errors.items()
            ]
        )
    feedback = FeedbackMessage(
        source=message.source, message_id=message.message_id, payload=message.payload
    )
    action.call(fo.pk, data.validated_data, actor, feedback)
    fo.refresh_from_db(fields=["status"])
    return {"fulfillment": fo.number, "status": fo.status}
