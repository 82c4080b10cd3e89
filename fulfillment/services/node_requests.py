"""Requests to a node about work it already holds: cancel units, ship to another address.

- `open_node_request()` (under the order lock of the caller: a cancellation or an order
  change) writes the request and its event (`order.cancel_requested`, or the `order.changed`
  the caller records) and sends it on commit;
- `send_node_request()` (task; the sweeper re-sends one never sent) calls the node's connector
  outside any transaction: the node API lists it on the fulfillment order, the simulated WMS
  answers a step later, a file node gets a 940 (fulfillment/x12/connector.py);
- the node answers with `confirm_node_request()` / `refuse_node_request()` (node API messages,
  logged and deduplicated like every node message; the simulated WMS): a confirmed cancel
  cancels the units through orders' `cancel_order_line(node_request=...)`, whose stock release
  and fulfillment bookkeeping follow; a confirmed address change applies the address; a refusal
  records `order.cancel_refused` / `order.change_refused` with the order as subject;
- a fulfillment order that ships with a request open refuses it (`already_shipped`): the
  parcel left before the node read it (`refuse_requests_of_shipped()`, on
  `fulfillment.shipped`).
"""

import dataclasses
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from fulfillment.connectors import ConnectorRefused, connector_for
from fulfillment.connectors.base import NodeRequestPayload, ReleaseLine
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    NodeRequest,
    NodeRequestKind,
    NodeRequestStatus,
)
from fulfillment.models.fulfillment_orders import FINISHED_STATUSES
from fulfillment.services.feedback import FeedbackMessage, feedback
from fulfillment.services.fulfillment_orders import release_payload
from inventory.models import ReservationStatus
from oms.core.actors import Actor
from oms.core.errors import NotFound, TransitionRefused
from oms.core.transactions import enqueue_on_commit
from oms.events.services import record_event
from orders.events import ORDER_CANCEL_REFUSED, ORDER_CANCEL_REQUESTED, ORDER_CHANGE_REFUSED
from orders.locks import lock_order
from orders.models import Order
from orders.services.cancellation import Release, cancel_order_line
from orders.services.changes import apply_shipping_address

logger = logging.getLogger(__name__)

ALREADY_SHIPPED = "already_shipped"


class RequestErrorCode:
    REQUEST_NOT_FOUND = "request_not_found"
    REQUEST_NOT_OPEN = "request_not_open"
    FULFILLMENT_SHIPPED = "fulfillment_shipped"


def open_node_request(
    *,
    order: Order,
    fo: FulfillmentOrder,
    kind: str,
    actor: Actor,
    reason: str,
    lines: list[dict[str, Any]] | None = None,
    ship_to: dict[str, str] | None = None,
    scope: str = "",
) -> NodeRequest:
    """In the caller's transaction, under its order lock. A cancel records
    `order.cancel_requested`; an address change's event is the caller's `order.changed`."""
    request = NodeRequest.objects.create(
        fulfillment=fo,
        kind=kind,
        lines=lines or [],
        ship_to=ship_to or {},
        scope=scope,
        reason=reason[:300],
        requested_by_kind=actor.kind,
        requested_by_id=actor.id,
        requested_by=actor.label[:200],
    )
    if kind == NodeRequestKind.CANCEL:
        record_event(
            stream=order.stream,
            type=ORDER_CANCEL_REQUESTED,
            actor=actor,
            payload={
                "request": request.pk,
                "fulfillment": fo.number,
                "node": fo.node.code,
                "scope": scope,
                "lines": _public_lines(request),
                "reason": reason,
            },
        )
    # Seam: the task module imports the services that import this one.
    from fulfillment.tasks import send_node_request_task  # noqa: PLC0415

    enqueue_on_commit(send_node_request_task, request.pk)
    return request


def open_cancel_units(request_lines: list[NodeRequest], fulfillment_line_id: int) -> int:
    """Units of a fulfillment line already asked back by these open cancel requests."""
    return sum(
        int(line["quantity"])
        for request in request_lines
        for line in request.lines
        if line["fulfillment_line"] == fulfillment_line_id
    )


def send_node_request(*, request_id: int) -> str:
    """Deliver an open request through the node's connector (outside any transaction).
    Idempotent: a request already sent or answered is not sent again. ConnectorUnavailable
    propagates for the task to retry; ConnectorRefused is kept on the request."""
    request = (
        NodeRequest.objects.select_related("fulfillment__node", "fulfillment__order")
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.status != NodeRequestStatus.OPEN or request.sent_at:
        return "not_due"
    fo = request.fulfillment
    release = release_payload(fo)
    if request.kind == NodeRequestKind.CANCEL:
        names = dict(
            FulfillmentOrderLine.objects.filter(fulfillment_id=fo.pk).values_list(
                "pk", "order_line__name"
            )
        )
        release = dataclasses.replace(
            release,
            lines=tuple(
                ReleaseLine(
                    line_id=int(line["fulfillment_line"]),
                    sku=str(line["sku"]),
                    name=names.get(int(line["fulfillment_line"]), ""),
                    quantity=int(line["quantity"]),
                )
                for line in request.lines
            ),
        )
    else:
        release = dataclasses.replace(release, ship_to=dict(request.ship_to))
    payload = NodeRequestPayload(
        request_id=request.pk, kind=request.kind, fulfillment=release, reason=request.reason
    )
    try:
        connector_for(fo.node.connector).send_request(payload)
    except ConnectorRefused as exc:
        NodeRequest.objects.filter(pk=request.pk).update(
            last_error=f"{exc.code}: {exc.message}"[:500],
            send_attempts=request.send_attempts + 1,
            updated_at=timezone.now(),
        )
        raise
    with transaction.atomic():
        lock_order(fo.order_id)
        locked = NodeRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
        if locked.sent_at is None:
            locked.sent_at = timezone.now()
            locked.send_attempts += 1
            locked.last_error = ""
            locked.save(update_fields=["sent_at", "send_attempts", "last_error", "updated_at"])
    return "sent"


def confirm_node_request(
    *,
    fulfillment_id: int,
    request_id: int,
    actor: Actor,
    reason: str = "",
    message: FeedbackMessage | None = None,
) -> NodeRequest:
    """The node agrees: a cancel's units are cancelled (stock released, fulfillment lines
    reduced, the order rolled up and, with nothing left, cancelled); an address change is
    applied. The cancellation's actor is whoever asked for it; the node confirmed it."""
    with feedback(fulfillment_id, message, "fulfillment.confirm_request") as state:
        request = _locked_request(state.fo, request_id)
        if state.duplicate or request.status == NodeRequestStatus.CONFIRMED:
            return request
        _require_open(request)
        requester = Actor(
            kind=request.requested_by_kind,  # type: ignore[arg-type]  # an ActorKind we wrote
            id=request.requested_by_id,
            label=request.requested_by,
        )
        if request.kind == NodeRequestKind.CANCEL:
            if state.fo.status in FINISHED_STATUSES:
                raise TransitionRefused(
                    RequestErrorCode.FULFILLMENT_SHIPPED,
                    f"{state.fo.number} has shipped; refuse the request instead.",
                )
            _cancel_confirmed_units(state.order, request, requester, actor)
        else:
            apply_shipping_address(
                order_id=state.order.pk,
                address=dict(request.ship_to),
                actor=requester,
                reason=request.reason,
                confirmed_by=actor.label,
                node_request=request.pk,
            )
        request.confirm(at=timezone.now(), reason=reason)
        request.save(update_fields=["status", "answered_at", "answer_reason", "updated_at"])
        state.result["request"] = {"id": request.pk, "status": request.status}
    return request


def refuse_node_request(
    *,
    fulfillment_id: int,
    request_id: int,
    actor: Actor,
    reason: str,
    code: str = ALREADY_SHIPPED,
    message: FeedbackMessage | None = None,
) -> NodeRequest:
    """The node cannot: the units stay (a shipped parcel comes back as a return, which the
    returns app opens from `order.cancel_refused`)."""
    with feedback(fulfillment_id, message, "fulfillment.refuse_request") as state:
        request = _locked_request(state.fo, request_id)
        if state.duplicate or request.status == NodeRequestStatus.REFUSED:
            return request
        _require_open(request)
        _refuse(state.order, state.fo, request, actor, code=code, reason=reason)
        state.result["request"] = {"id": request.pk, "status": request.status}
    return request


def refuse_requests_of_shipped(*, fo: FulfillmentOrder, actor: Actor) -> None:
    """`fulfillment.shipped` (same transaction, order locked): open requests were too late."""
    order = Order.objects.get(pk=fo.order_id)
    for request in (
        NodeRequest.objects.select_for_update(of=("self",))
        .filter(fulfillment_id=fo.pk, status=NodeRequestStatus.OPEN)
        .order_by("id")
    ):
        _refuse(
            order,
            fo,
            request,
            actor,
            code=ALREADY_SHIPPED,
            reason="The parcel shipped before the node acted on the request.",
        )


def _refuse(
    order: Order,
    fo: FulfillmentOrder,
    request: NodeRequest,
    actor: Actor,
    *,
    code: str,
    reason: str,
) -> None:
    request.refuse(at=timezone.now(), code=code, reason=reason)
    request.save(
        update_fields=["status", "answered_at", "answer_code", "answer_reason", "updated_at"]
    )
    payload: dict[str, Any] = {
        "request": request.pk,
        "fulfillment": fo.number,
        "node": fo.node.code,
        "code": code,
        "reason": request.reason,
        "node_reason": reason,
    }
    if request.kind == NodeRequestKind.CANCEL:
        payload["lines"] = _public_lines(request)
        payload["scope"] = request.scope
    else:
        payload["ship_to"] = dict(request.ship_to)
    record_event(
        stream=order.stream,
        type=ORDER_CANCEL_REFUSED
        if request.kind == NodeRequestKind.CANCEL
        else ORDER_CHANGE_REFUSED,
        actor=actor,
        payload=payload,
        subject=order,  # the returns app turns a refused cancel into a return
    )


def _cancel_confirmed_units(
    order: Order, request: NodeRequest, requester: Actor, node: Actor
) -> None:
    fls = {
        fl.pk: fl
        for fl in FulfillmentOrderLine.objects.select_related("reservation").filter(
            pk__in=[int(line["fulfillment_line"]) for line in request.lines]
        )
    }
    reason = request.reason or f"cancel confirmed by {node.label}"
    for line in request.lines:
        fl = fls.get(int(line["fulfillment_line"]))
        if fl is None or fl.reservation.status != ReservationStatus.ACTIVE:
            continue  # gone meanwhile (rejected, shorted): nothing of it is left to cancel
        units = min(int(line["quantity"]), fl.reservation.quantity)
        cancel_order_line(
            order_id=order.pk,
            line_id=fl.order_line_id,
            actor=requester,
            reason=reason,
            quantity=units,
            releases=[Release(fl.reservation_id, units)],
            node_request=request.pk,
        )


def _locked_request(fo: FulfillmentOrder, request_id: int) -> NodeRequest:
    request = (
        NodeRequest.objects.select_for_update(of=("self",))
        .filter(pk=request_id, fulfillment_id=fo.pk)
        .first()
    )
    if request is None:
        raise NotFound(
            f"{fo.number} has no request {request_id}.", code=RequestErrorCode.REQUEST_NOT_FOUND
        )
    return request


def _require_open(request: NodeRequest) -> None:
    if request.status != NodeRequestStatus.OPEN:
        raise TransitionRefused(
            RequestErrorCode.REQUEST_NOT_OPEN,
            f"Request {request.pk} is already {request.get_status_display().lower()}.",
            status=request.status,
        )


def _public_lines(request: NodeRequest) -> list[dict[str, Any]]:
    return [
        {"line_number": line["line_number"], "sku": line["sku"], "quantity": line["quantity"]}
        for line in request.lines
    ]
