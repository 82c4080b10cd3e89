"""The simulated WMS's and simulated carrier's behaviour (see fulfillment/connectors/simulated.py).
Each step calls the ordinary services with a message id, so a redelivered step does nothing."""

from django.utils import timezone

from fulfillment.connectors.simulated import schedule_step
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.services.feedback import (
    FeedbackMessage,
    accept_fulfillment,
    mark_ready_for_pickup,
    pack_fulfillment,
    reject_fulfillment,
)
from fulfillment.services.labels import ship_with_carrier
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
