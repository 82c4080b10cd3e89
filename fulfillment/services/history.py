"""record_historic_fulfillment(): the legacy shipment of an imported closed order (migration/).

One fulfillment order at the node that shipped it, in its final state (shipped, delivered or
picked up) with the legacy times, its lines tied to reservations written already consumed
(inventory/services/history.py: no stock moves), and a parcel with carrier and tracking when
the source has them. `fulfillment.imported` is recorded at the shipping time. Nothing is sent
to the node and no handler runs. The shipping KPIs read `shipped_at`, so they cover it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from fulfillment.events import FULFILLMENT_IMPORTED
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from inventory.models import Node
from inventory.services.history import ConsumedHistory, record_consumed_history
from oms.core.actors import Actor
from oms.events.services import record_event
from orders.models import Order, OrderLine


@dataclass(frozen=True)
class HistoricShipment:
    node: Node
    shipped_at: datetime
    delivered_at: datetime | None = None
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""


def record_historic_fulfillment(
    *, order: Order, lines: list[OrderLine], shipment: HistoricShipment, actor: Actor
) -> FulfillmentOrder:
    with transaction.atomic():
        reservations = record_consumed_history(
            items=[
                ConsumedHistory(shipment.node.pk, line.product_id, line.pk, line.quantity)
                for line in lines
            ],
            reference_id=order.number,
            at=shipment.shipped_at,
        )
        pickup = order.delivery_method != "ship"
        if pickup:
            status = FulfillmentStatus.PICKED_UP
        elif shipment.delivered_at:
            status = FulfillmentStatus.DELIVERED
        else:
            status = FulfillmentStatus.SHIPPED
        fo = FulfillmentOrder(
            number=f"{order.number}-1",
            order=order,
            node=shipment.node,
            status=status,
            delivery_method=order.delivery_method,
            service_level=order.service_level,
            released_at=shipment.shipped_at,
            accepted_at=shipment.shipped_at,
            shipped_at=None if pickup else shipment.shipped_at,
            picked_up_at=shipment.shipped_at if pickup else None,
            delivered_at=shipment.delivered_at,
            node_reference="imported",
        )
        fo.save(force_insert=True)
        fo_lines = FulfillmentOrderLine.objects.bulk_create(
            [
                FulfillmentOrderLine(
                    fulfillment=fo,
                    order_line=line,
                    reservation=reservation,
                    quantity=line.quantity,
                    picked_quantity=line.quantity,
                    shipped_quantity=line.quantity,
                )
                for line, reservation in zip(lines, reservations, strict=True)
            ]
        )
        parcel = None
        if shipment.tracking_number and not pickup:
            parcel = Shipment.objects.create(
                fulfillment=fo,
                carrier=(shipment.carrier or "unknown")[:50],
                service=shipment.service[:50],
                tracking_number=shipment.tracking_number[:60],
                status=ShipmentStatus.DELIVERED if shipment.delivered_at else ShipmentStatus.IN_TRANSIT,
                shipped_at=shipment.shipped_at,
                delivered_at=shipment.delivered_at,
            )
            ShipmentLine.objects.bulk_create(
                [ShipmentLine(shipment=parcel, fulfillment_line=fl, quantity=fl.quantity) for fl in fo_lines]
            )
        record_event(
            stream=order.stream,
            type=FULFILLMENT_IMPORTED,
            actor=actor,
            payload={
                "fulfillment": fo.number,
                "node": shipment.node.code,
                "status": fo.status,
                "shipped_at": shipment.shipped_at.isoformat(),
                "carrier": parcel.carrier if parcel else None,
                "tracking_number": parcel.tracking_number if parcel else None,
                "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
            },
            occurred_at=shipment.shipped_at,
        )
    return fo
