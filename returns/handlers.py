"""What returns do when a layer below records a fact (oms/events/handlers.py):

- `shipment.tracking_updated` with status `returned` (a carrier's "returned to sender"): a
  return of the parcel's units, authorized at once and expected at the node that shipped it,
  with reason `returned_to_sender` (no window applies: the customer never had it). One per
  parcel (`Return.source_shipment` is unique), so a resent scan changes nothing.
"""

from typing import Any

from fulfillment.events import SHIPMENT_TRACKING_UPDATED
from fulfillment.models import ShipmentStatus
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from returns.models import ReasonCode, Return, ReturnSource
from returns.policy import RequestedLine
from returns.services.requests import ReturnRequest, request_return


@on_event(SHIPMENT_TRACKING_UPDATED)
def parcel_returned_to_sender(event: Event, shipment: Any) -> None:
    if shipment.status != ShipmentStatus.RETURNED:
        return
    if Return.objects.filter(source_shipment=shipment).exists():
        return
    lines = [
        RequestedLine(
            line_number=line.fulfillment_line.order_line.line_number,
            quantity=line.quantity,
            reason_code=ReasonCode.RETURNED_TO_SENDER,
            condition="unopened",
        )
        for line in shipment.lines.select_related("fulfillment_line__order_line").order_by("id")
    ]
    if not lines:  # a parcel recorded without its lines: the whole fulfillment order
        lines = [
            RequestedLine(
                line_number=fol.order_line.line_number,
                quantity=fol.shipped_quantity or fol.quantity,
                reason_code=ReasonCode.RETURNED_TO_SENDER,
                condition="unopened",
            )
            for fol in shipment.fulfillment.lines.select_related("order_line").order_by("id")
        ]
    request_return(
        order_id=shipment.fulfillment.order_id,
        request=ReturnRequest(
            lines=lines,
            source=ReturnSource.RETURNED_TO_SENDER,
            return_node_code=shipment.fulfillment.node.code
            if shipment.fulfillment.node.can_accept_returns
            else "",
            authorize=True,
            enforce_window=False,
        ),
        actor=actor_of(event),
        source_shipment=shipment,
    )
