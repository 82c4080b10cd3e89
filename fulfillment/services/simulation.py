"""The simulated WMS's and simulated carrier's behaviour (see fulfillment/connectors/simulated.py).
Each step calls the ordinary services with a message id, so a redelivered step does nothing."""

from typing import Any

from django.utils import timezone

from fulfillment.connectors.simulated import schedule_step
from fulfillment.models import FulfillmentOrder, FulfillmentStatus, NodeRequest, NodeRequestStatus
from fulfillment.models.fulfillment_orders import FINISHED_STATUSES
from fulfillment.services.feedback import (
    FeedbackMessage,
    accept_fulfillment,
    mark_ready_for_pickup,
    pack_fulfillment,
    reject_fulfillment,
)
from fulfillment.services.labels import ship_with_carrier
from fulfillment.services.node_requests import confirm_node_request, refuse_node_request
from fulfillment.services.shipping import apply_tracking_updates
from integrations.carriers import simulate_tracking
from oms.core.actors import Actor

WMS = Actor.system("simulated WMS")
CARRIER = Actor.system("simulated carrier")


def run_wms_step(*, fulfillment_id: int, step: str) -> str:
    fo = FulfillmentOrder.objects.select_related("node").filter(pk=fulfillment_id).first()
    if fo is None:
        return "gone"
    settings = dict(fo.node.connector_settings)
    behaviour = settings.get("behaviour", "ship")

    def msg(name: str) -> FeedbackMessage:
        return FeedbackMessage(
            source=f"sim:{fo.node.code}", message_id=f"{fo.number}:{name}", payload={"step": name}
        )

    if step.startswith("request:"):
        return answer_request(fo, int(step.removeprefix("request:")), settings, msg)
    if step == "start":
        if fo.status != FulfillmentStatus.RELEASED:
            return "skipped"
        if behaviour == "reject":
            reject_fulfillment(
                fulfillment_id=fo.pk,
                actor=WMS,
                message=msg("reject"),
                reason=settings.get("reject_reason", "no capacity today"),
            )
            return "rejected"
        accept_fulfillment(fulfillment_id=fo.pk, actor=WMS, message=msg("accept"))
        if behaviour != "accept_only":
            schedule_step(fo.pk, "pack", settings)
        return "accepted"
    if step == "pack":
        if fo.status != FulfillmentStatus.ACCEPTED:
            return "skipped"
        picked = {}
        if behaviour == "short":
            first = fo.lines.order_by("id").first()
            if first is not None:
                picked[first.pk] = first.quantity - 1
        pack_fulfillment(
            fulfillment_id=fo.pk,
            actor=WMS,
            picked=picked,
            short_reason="bin empty" if picked else "",
            message=msg("pack"),
        )
        schedule_step(fo.pk, "ready" if fo.is_pickup else "ship", settings)
        return "packed"
    if step == "ready" and fo.status == FulfillmentStatus.PACKED:
        mark_ready_for_pickup(fulfillment_id=fo.pk, actor=WMS, message=msg("ready"))
        return "ready"
    if step == "ship" and fo.status == FulfillmentStatus.PACKED:
        ship_with_carrier(fulfillment_id=fo.pk, actor=WMS, message=msg("ship"))
        if settings.get("deliver", True):
            schedule_step(fo.pk, "track", settings)
        return "shipped"
    if step == "track":
        return simulate_delivery(fulfillment_id=fo.pk)
    return "skipped"


def answer_request(
    fo: FulfillmentOrder, request_id: int, settings: dict[str, Any], msg: Any
) -> str:
    """The warehouse reads a cancel or address-change request: it confirms while the parcel has
    not left. With `request_answer: ship_first` the parcel was already on its way: it ships
    what it holds first, which refuses the request (`already_shipped`)."""
    request = NodeRequest.objects.filter(pk=request_id, fulfillment_id=fo.pk).first()
    if request is None or request.status != NodeRequestStatus.OPEN:
        return "skipped"
    if settings.get("request_answer") == "ship_first" and fo.status not in FINISHED_STATUSES:
        if fo.status in (FulfillmentStatus.RELEASED, FulfillmentStatus.ACCEPTED):
            if fo.status == FulfillmentStatus.RELEASED:
                accept_fulfillment(fulfillment_id=fo.pk, actor=WMS, message=msg("accept"))
            pack_fulfillment(
                fulfillment_id=fo.pk, actor=WMS, picked={}, short_reason="", message=msg("pack")
            )
        ship_with_carrier(fulfillment_id=fo.pk, actor=WMS, message=msg("ship"))
        return "shipped_first"
    fo.refresh_from_db(fields=["status"])
    if fo.status in FINISHED_STATUSES:
        refuse_node_request(
            fulfillment_id=fo.pk,
            request_id=request_id,
            actor=WMS,
            reason="The parcel has left the warehouse.",
            message=msg(f"refuse-request-{request_id}"),
        )
        return "refused"
    confirm_node_request(
        fulfillment_id=fo.pk,
        request_id=request_id,
        actor=WMS,
        reason="Taken off the pick list.",
        message=msg(f"confirm-request-{request_id}"),
    )
    return "confirmed"


def simulate_delivery(*, fulfillment_id: int) -> str:
    """Feed the simulated carrier's scans for each parcel, ending with delivered."""
    fo = FulfillmentOrder.objects.get(pk=fulfillment_id)
    now = timezone.now()
    for shipment in fo.shipments.order_by("id"):
        last = simulate_tracking(shipment.tracking_number, now)[-1]
        apply_tracking_updates(
            [last], source="carrier:simulated", message_id=last.status, actor=CARRIER
        )
    return "tracked"
