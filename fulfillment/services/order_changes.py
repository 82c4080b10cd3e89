"""Changing an order (the shipping address, the service level, internal notes): the one way in
for the API and the admin. Orders applies the fields (orders/services/changes.py); this decides,
under the order lock, what may apply at once:

- before release (no fulfillment order at a node): everything applies now; a new address
  re-routes what is reserved but not yet released (its pending fulfillment orders are
  cancelled, their stock released, and routing runs again on commit with trigger
  `address_changed`: the best node for the new address may be another one);
- after release: an address change goes to each node holding work as a request (confirmed →
  applied, refused → `order.change_refused`); the service level can no longer change
  (`not_changeable`); internal notes always can.
"""

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from fulfillment.events import FULFILLMENT_CANCELLED
from fulfillment.models import FulfillmentOrder, FulfillmentStatus, NodeRequestKind, RoutingTrigger
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES, FINISHED_STATUSES
from fulfillment.services.node_requests import open_node_request
from fulfillment.services.rollup import rollup_order
from inventory.models import Reservation, ReservationStatus
from inventory.reservations import release
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput, TransitionRefused
from oms.events.services import record_event
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import Order
from orders.services.changes import ChangeRequest, apply_order_changes, validate_changes


@dataclass
class ChangeOutcome:
    order: str
    changes: dict[str, Any] = field(default_factory=dict)
    requested: list[dict[str, Any]] = field(default_factory=list)
    rerouted: bool = False


def change_order(
    *, order_id: int, change: ChangeRequest, actor: Actor, reason: str
) -> ChangeOutcome:
    """Apply or request the change; one `order.changed` with who and why."""
    if not reason.strip():
        raise InvalidInput([FieldError("reason_required", "Say why it changes.", "reason")])
    with transaction.atomic():
        order = lock_order(order_id)
        changes = validate_changes(order, change)
        outcome = ChangeOutcome(order=order.number)
        if not changes:
            return outcome
        fos = list(
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .select_related("node")
            .filter(order_id=order.pk)
            .order_by("id")
        )
        at_node = [fo for fo in fos if fo.status in AT_NODE_STATUSES]
        started = at_node or any(fo.status in FINISHED_STATUSES for fo in fos)
        if "service_level" in changes and started:
            raise TransitionRefused(
                OrderErrorCode.NOT_CHANGEABLE,
                "The order is already at a node; its service level can no longer change.",
                field="service_level",
            )
        requested_changes: dict[str, Any] = {}
        now_change = change
        if "shipping_address" in changes and started:
            if not at_node:
                raise TransitionRefused(
                    OrderErrorCode.NOT_CHANGEABLE,
                    "The order has shipped; its address can no longer change.",
                    field="shipping_address",
                )
            new_address = changes["shipping_address"]["to"]
            for fo in at_node:
                request = open_node_request(
                    order=order,
                    fo=fo,
                    kind=NodeRequestKind.ADDRESS_CHANGE,
                    actor=actor,
                    reason=reason,
                    ship_to=new_address,
                )
                outcome.requested.append(
                    {"request": request.pk, "fulfillment": fo.number, "node": fo.node.code}
                )
            requested_changes = {"shipping_address": changes["shipping_address"]}
            now_change = ChangeRequest(
                service_level=change.service_level, internal_notes=change.internal_notes
            )
        elif "shipping_address" in changes:
            outcome.rerouted = _unroute_pending(order, fos, actor, reason)
        if "service_level" in changes:
            for fo in fos:
                if fo.status == FulfillmentStatus.PENDING:
                    fo.service_level = changes["service_level"]["to"]
                    fo.save(update_fields=["service_level", "updated_at"])
        outcome.changes = apply_order_changes(
            order_id=order.pk,
            change=now_change,
            actor=actor,
            reason=reason,
            rerouted=outcome.rerouted,
            requested=[r["request"] for r in outcome.requested],
            requested_changes=requested_changes or None,
        )
        if outcome.rerouted:
            # Seam: the task module imports the services.
            from fulfillment.tasks import orchestrate_order_task  # noqa: PLC0415

            transaction.on_commit(
                partial(
                    orchestrate_order_task.delay,
                    order.pk,
                    RoutingTrigger.ADDRESS_CHANGED.value,
                )
            )
    return outcome


def _unroute_pending(order: Order, fos: list[FulfillmentOrder], actor: Actor, reason: str) -> bool:
    """Give back the stock of fulfillment orders not yet released (and reservations in none),
    so routing chooses again for the new address. True when there was any."""
    pending = [fo for fo in fos if fo.status == FulfillmentStatus.PENDING]
    reservation_ids = list(
        Reservation.objects.filter(order_line__order_id=order.pk, status=ReservationStatus.ACTIVE)
        .exclude(fulfillment_line__fulfillment__status__in=AT_NODE_STATUSES)
        .values_list("pk", flat=True)
    )
    if not pending and not reservation_ids:
        return False
    why = f"re-routed: shipping address changed ({reason})"[:200]
    release(reservation_ids=sorted(reservation_ids), actor=actor, reason=why)
    for fo in pending:
        fo.cancel(at=timezone.now(), reason=why)
        fo.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
        record_event(
            stream=order.stream,
            type=FULFILLMENT_CANCELLED,
            actor=actor,
            payload={
                "fulfillment": fo.number,
                "node": fo.node.code,
                "reason": why,
                "units": sum(fo.lines.values_list("quantity", flat=True)),
            },
            subject=fo,
        )
    rollup_order(order)
    return True
