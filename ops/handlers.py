"""How domain facts become exception cases (and how a cleared condition closes one).

The domain apps sit below the console and never import it: they record what happened, and the
console reacts here, in the same transaction (oms/events/handlers.py). Each handler receives the
event and its subject, the row the service had locked (an order, a fulfillment order, a node, an
inbound message), and opens or refreshes the case with `raise_exception_case()`, which keeps one
open case per (kind, subject).

| event                              | case                                        |
|------------------------------------|---------------------------------------------|
| order.hold_placed (fraud, address, payment) | fraud_hold / address_invalid / payment_failed |
| order.hold_released                | resolves the hold's case                    |
| order.payment_failed               | payment_failed                              |
| order.refund_failed                | payment_failed (details: operation refund)  |
| order.payment_refunded             | resolves that case once its refund's retry succeeded |
| order.unroutable                   | stuck_order                                 |
| fulfillment.rejected               | node_rejected                               |
| fulfillment.packed with shorts     | short_pick                                  |
| fulfillment.release_failed         | integration_failed                          |
| fulfillment.sent_while_cancelled   | integration_failed (never closed by itself) |
| inventory.oversold                 | oversell (one per node, every open oversell)|
| inventory.shortage_recorded        | cycle_count (one per node, every SKU to count)|
| inventory.snapshot_applied         | narrows or resolves the node's cycle_count  |
| inbound.message_dead               | integration_failed                          |
| fulfillment.pickup_locked          | pickup_locked (too many wrong pickup codes) |
| fulfillment.pickup_unlocked        | resolves the fulfillment's pickup_locked    |
"""

from typing import Any

from fulfillment.events import (
    FULFILLMENT_PACKED,
    FULFILLMENT_PICKUP_LOCKED,
    FULFILLMENT_PICKUP_UNLOCKED,
    FULFILLMENT_REJECTED,
    FULFILLMENT_RELEASE_FAILED,
    FULFILLMENT_SENT_WHILE_CANCELLED,
)
from integrations.events import INBOUND_MESSAGE_DEAD
from inventory.events import (
    INVENTORY_OVERSOLD,
    INVENTORY_SHORTAGE_RECORDED,
    INVENTORY_SNAPSHOT_APPLIED,
)
from inventory.models import Oversell, OversellStatus
from inventory.selectors import skus_awaiting_count
from inventory.services.oversells import OversellNotice
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from ops.services.cases import (
    CHANGED_WHILE_RELEASING,
    raise_cycle_count_case,
    raise_exception_case,
    raise_exception_case_for_hold,
    raise_oversell_case,
    resolve_cases_of_released_hold,
    resolve_pickup_locked_case,
    settle_cycle_count_case,
)
from ops.services.reconcile import resolve_retried_refund_cases
from orders.events import (
    ORDER_HOLD_PLACED,
    ORDER_HOLD_RELEASED,
    ORDER_PAYMENT_FAILED,
    ORDER_PAYMENT_REFUNDED,
    ORDER_REFUND_FAILED,
    ORDER_UNROUTABLE,
)


@on_event(ORDER_HOLD_PLACED)
def hold_placed(event: Event, order: Any) -> None:
    """Placed later or asked for at capture, a fraud, address or payment hold is a case."""
    hold = order.holds.get(pk=event.payload["hold_id"])
    raise_exception_case_for_hold(order=order, hold=hold, actor=actor_of(event))


@on_event(ORDER_HOLD_RELEASED)
def hold_released(event: Event, order: Any) -> None:
    hold = order.holds.get(pk=event.payload["hold_id"])
    resolve_cases_of_released_hold(order=order, hold=hold)


@on_event(ORDER_PAYMENT_FAILED)
def payment_failed(event: Event, order: Any) -> None:
    raise_exception_case(
        kind="payment_failed",
        order=order,
        summary=event.payload["detail"],
        details={"code": event.payload["code"]},
        actor=actor_of(event),
    )


@on_event(ORDER_REFUND_FAILED)
def refund_failed(event: Event, order: Any) -> None:
    """A refund the provider declined or did not answer: finance retries it after a fix."""
    payload = event.payload
    raise_exception_case(
        kind="payment_failed",
        order=order,
        summary=f"Refund of {payload['amount']} {payload['currency']} failed: {payload['detail']}",
        details={
            "operation": "refund",
            "code": payload["code"],
            "transaction": payload["transaction"],
        },
        actor=actor_of(event),
    )


@on_event(ORDER_PAYMENT_REFUNDED)
def payment_refunded(event: Event, order: Any) -> None:
    """A refund succeeded: the case of its earlier failure (same key) closes now."""
    resolve_retried_refund_cases(order=order)


@on_event(ORDER_UNROUTABLE)
def unroutable(event: Event, order: Any) -> None:
    raise_exception_case(
        kind="stuck_order",
        order=order,
        summary="No node can take this order (unroutable)",
        details={"reason": "unroutable", "decision_id": event.payload["decision_id"]},
        actor=actor_of(event),
    )


@on_event(FULFILLMENT_REJECTED)
def node_rejected(event: Event, fulfillment: Any) -> None:
    raise_exception_case(
        kind="node_rejected",
        fulfillment=fulfillment,
        summary=event.payload["reason"],
        actor=actor_of(event),
    )


@on_event(FULFILLMENT_PACKED)
def short_picked(event: Event, fulfillment: Any) -> None:
    shorts = event.payload.get("short")
    if not shorts:
        return
    raise_exception_case(
        kind="short_pick",
        fulfillment=fulfillment,
        summary=event.payload.get("short_reason") or "Short pick",
        details={"short": shorts},
        actor=actor_of(event),
    )


@on_event(FULFILLMENT_PICKUP_LOCKED)
def pickup_locked(event: Event, fulfillment: Any) -> None:
    """Someone typed too many wrong pickup codes: a supervisor checks the customer."""
    attempts = event.payload["attempts"]
    raise_exception_case(
        kind="pickup_locked",
        fulfillment=fulfillment,
        summary=f"Hand-over locked after {attempts} wrong pickup codes at {event.payload['node']}",
        details={"attempts": attempts},
        actor=actor_of(event),
    )


@on_event(FULFILLMENT_PICKUP_UNLOCKED)
def pickup_unlocked(event: Event, fulfillment: Any) -> None:
    resolve_pickup_locked_case(fulfillment=fulfillment, actor=actor_of(event))


@on_event(FULFILLMENT_RELEASE_FAILED)
def release_failed(event: Event, fulfillment: Any) -> None:
    raise_exception_case(
        kind="integration_failed",
        fulfillment=fulfillment,
        summary=event.payload["error"][:300],
        details={"error": event.payload["error"], "attempts": event.payload["attempts"]},
        actor=actor_of(event),
    )


@on_event(FULFILLMENT_SENT_WHILE_CANCELLED)
def sent_while_cancelled(event: Event, fulfillment: Any) -> None:
    raise_exception_case(
        kind="integration_failed",
        fulfillment=fulfillment,
        summary=event.payload["summary"],
        details={
            "reason": CHANGED_WHILE_RELEASING,
            "cancelled_lines": event.payload["cancelled_lines"],
        },
        actor=actor_of(event),
    )


@on_event(INVENTORY_OVERSOLD)
def oversold(event: Event, node: Any) -> None:
    """One case per node listing every oversell still open there (re-read, so a feed that
    changes several SKUs leaves the case with all of them)."""
    open_oversells = (
        Oversell.objects.filter(node_id=node.pk, status=OversellStatus.OPEN)
        .select_related("product")
        .order_by("id")
    )
    notices = [
        OversellNotice(
            oversell_id=o.pk,
            sku=o.product.sku,
            on_hand=o.on_hand,
            reserved=o.reserved,
            shortfall=o.shortfall,
        )
        for o in open_oversells
    ]
    raise_oversell_case(node=node, oversells=notices, actor=actor_of(event))


@on_event(INVENTORY_SHORTAGE_RECORDED)
def shortage_recorded(event: Event, node: Any) -> None:
    """A short pick or shipment is evidence the node's count is wrong: one cycle_count case per
    node listing every SKU that came up short and has not been counted since."""
    raise_cycle_count_case(node=node, awaiting=skus_awaiting_count(node.pk), actor=actor_of(event))


@on_event(INVENTORY_SNAPSHOT_APPLIED)
def counted(event: Event, change: Any) -> None:
    """A full count of the node covers the SKUs it counted as of a time after their shortage:
    the node's cycle_count case keeps only the rest, or is resolved."""
    settle_cycle_count_case(
        node=change.node,
        awaiting=skus_awaiting_count(change.node.pk),
        reason=f"Counted: snapshot of {change.node.code} as of {event.payload['as_of']}",
    )


@on_event(INBOUND_MESSAGE_DEAD)
def message_dead(event: Event, message: Any) -> None:
    payload = event.payload
    raise_exception_case(
        kind="integration_failed",
        message=message,
        summary=f"{payload['kind']} from {payload['source']} failed {payload['attempts']} "
        f"times: {payload['error_code']}",
        details={
            "message_id": payload["message_id"],
            "source": payload["source"],
            "error_code": payload["error_code"],
            "error": payload["error"],
            "attempts": payload["attempts"],
        },
        actor=actor_of(event),
    )
