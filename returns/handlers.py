"""What returns do when a layer below records a fact (oms/events/handlers.py):

- `shipment.tracking_updated` with status `returned` (a carrier's "returned to sender"): a
  return of the parcel's units, authorized at once and expected at the node that shipped it,
  with reason `returned_to_sender` (no window applies: the customer never had it). One per
  parcel (`Return.source_shipment` is unique), so a resent scan changes nothing.
- `order.cancel_refused` (the node says the parcel already shipped): a return of the units the
  customer wanted cancelled, authorized at once, reason `cancel_refused`, expected at that node.
  One per refused request (`payload.request`): the same refusal recorded again on the order's
  stream opens nothing more.

Neither may undo the fact it reacts to: a return the policy or the counts refuse (the units are
already in another return) is logged and skipped, in a savepoint of its own.
"""

import logging
from typing import Any

from django.db import transaction

from fulfillment.events import SHIPMENT_TRACKING_UPDATED
from fulfillment.models import ShipmentStatus
from inventory.models import Node
from oms.core.errors import DomainError
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from orders.events import ORDER_CANCEL_REFUSED
from returns.models import ReasonCode, Return, ReturnSource
from returns.policy import RequestedLine
from returns.services.requests import ReturnRequest, request_return

logger = logging.getLogger(__name__)


def _open_return(order_id: int, request: ReturnRequest, event: Event, **extra: Any) -> None:
    try:
        with transaction.atomic():
            request_return(order_id=order_id, request=request, actor=actor_of(event), **extra)
    except DomainError as exc:
        logger.warning(
            "no return opened",
            extra={"event": str(event.event_id), "type": event.type, "code": exc.code},
        )


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
    _open_return(
        shipment.fulfillment.order_id,
        ReturnRequest(
            lines=lines,
            source=ReturnSource.RETURNED_TO_SENDER,
            return_node_code=shipment.fulfillment.node.code
            if shipment.fulfillment.node.can_accept_returns
            else "",
            authorize=True,
            enforce_window=False,
        ),
        event,
        source_shipment=shipment,
    )


def _refusal_seen_before(event: Event) -> bool:
    """An earlier `order.cancel_refused` of the same node request on this stream."""
    request = event.payload.get("request")
    if request is None:
        return False
    return (
        Event.objects.filter(
            stream=event.stream, type=ORDER_CANCEL_REFUSED, payload__request=request
        )
        .exclude(pk=event.pk)
        .exists()
    )


@on_event(ORDER_CANCEL_REFUSED)
def cancel_refused_because_shipped(event: Event, order: Any) -> None:
    if _refusal_seen_before(event):
        return
    lines = [
        RequestedLine(
            line_number=int(line["line_number"]),
            quantity=int(line["quantity"]),
            reason_code=ReasonCode.CANCEL_REFUSED,
            condition="unopened",
        )
        for line in event.payload.get("lines", [])
        if int(line.get("quantity", 0)) > 0
    ]
    if not lines:
        return
    node = event.payload.get("node", "")
    takes_returns = Node.objects.filter(code=node, can_accept_returns=True).exists()
    _open_return(
        order.pk,
        ReturnRequest(
            lines=lines,
            source=ReturnSource.CANCEL_REFUSED,
            customer_note=str(event.payload.get("reason", ""))[:500],
            return_node_code=node if takes_returns else "",
            authorize=True,
            enforce_window=False,
            assume_shipped=True,
        ),
        event,
    )
