"""Buy carrier labels for a packed fulfillment order and ship it: what a store associate's
"ship" button and the simulated WMS do. The carrier is called outside any transaction."""

from typing import cast

from django.utils import timezone

from fulfillment.exceptions import LabelNotBought
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.services.feedback import FeedbackMessage
from fulfillment.services.shipping import Package, ship_fulfillment
from integrations.carriers import Address, Label, LabelRequest, Parcel, SimulatedCarrier
from integrations.carriers.base import CarrierError, ServiceLevel
from integrations.services import already_processed
from inventory.models import Node
from oms.core.actors import Actor
from oms.core.errors import TransitionRefused
from orders.models import Order

CARRIER = SimulatedCarrier()
DEFAULT_PARCEL_GRAMS = 500
# The heaviest carton a parcel carrier takes (the simulated carrier refuses heavier ones).
PARCEL_LIMIT_GRAMS = 30_000


def ship_with_carrier(
    *, fulfillment_id: int, actor: Actor, message: FeedbackMessage | None = None
) -> FulfillmentOrder:
    """One parcel per fulfillment order, labelled by the carrier adapter.

    Idempotent: a repeated `message` (a double tap, a redelivered task) answers with the
    fulfillment order before anything is bought; the carrier also keys labels on the
    fulfillment number. A carrier that times out or refuses is `label_not_bought` (a 4xx with
    words for a person), and nothing ships."""
    if message is not None and already_processed(
        source=message.source, message_id=message.message_id
    ):
        return FulfillmentOrder.objects.get(pk=fulfillment_id)
    fo = (
        FulfillmentOrder.objects.select_related("node", "order")
        .prefetch_related("lines__order_line__product")
        .get(pk=fulfillment_id)
    )
    if fo.status not in (
        FulfillmentStatus.ACCEPTED,
        FulfillmentStatus.PICKING,
        FulfillmentStatus.PACKED,
        FulfillmentStatus.RELEASED,
    ):
        raise TransitionRefused(
            "fulfillment_transition_refused",
            f"Fulfillment {fo.number} is {fo.get_status_display().lower()}; it cannot ship now.",
            fulfillment=fo.number,
            status=fo.status,
            action="ship",
        )
    node, order = fo.node, fo.order
    grams = sum(
        (line.order_line.product.weight_grams or DEFAULT_PARCEL_GRAMS)
        * max(line.quantity - line.short_quantity, 0)
        for line in fo.lines.all()
    )
    try:
        labels = _buy_labels(fo, node, order, grams)
    except CarrierError as exc:
        raise LabelNotBought(exc) from exc
    packages = [
        Package(
            carrier=label.carrier,
            service=label.service,
            tracking_number=label.tracking_number,
            label_pdf=label.label_pdf,
            cost=label.cost,
            currency=label.currency,
        )
        for label in labels
    ]
    return ship_fulfillment(
        fulfillment_id=fo.pk,
        packages=packages,
        actor=actor,
        shipped_at=timezone.now(),
        message=message,
    )


def parcels_for(grams: int) -> tuple[Parcel, ...]:
    """The parcels a shipment of `grams` packs into: as few as fit under PARCEL_LIMIT_GRAMS each
    (a B2B order of hundreds of units is many cartons, not one parcel a carrier refuses)."""
    grams = max(grams, 1)
    count = -(-grams // PARCEL_LIMIT_GRAMS)
    base, extra = divmod(grams, count)
    return tuple(Parcel(weight_grams=base + (1 if i < extra else 0)) for i in range(count))


def _buy_labels(fo: FulfillmentOrder, node: Node, order: Order, grams: int) -> tuple[Label, ...]:
    return CARRIER.buy_labels(
        LabelRequest(
            reference=fo.number,
            ship_from=Address(
                name=node.name,
                line1=node.address_line1 or node.name,
                city=node.city or node.code,
                region=node.region,
                postal_code=node.postal_code or "00000",
                country=node.country,
            ),
            ship_to=Address(
                name=order.ship_name or order.customer_name,
                line1=order.ship_line1,
                line2=order.ship_line2,
                city=order.ship_city,
                region=order.ship_region,
                postal_code=order.ship_postal_code,
                country=order.ship_country,
                phone=order.customer_phone,
            ),
            # A ServiceLevel choice copied from the order; LabelRequest checks it again.
            service_level=cast(ServiceLevel, fo.service_level),
            parcels=parcels_for(grams),
        )
    )
