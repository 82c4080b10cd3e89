"""Opening returns and deciding on them: request, authorize, reject, cancel, in transit.

`request_return()` is the one way a return starts: the channel's API, customer service in the
admin, a carrier's "returned to sender" and a cancellation refused because the parcel had
shipped all call it. Each locks the order (the stream's root), then the return, transitions,
saves with update_fields and records the event on the order's stream in one transaction.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Node
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from oms.core.money import format_amount
from orders.locks import lock_order
from orders.models import Order
from returns.events import (
    EXCHANGE_CANCELLED,
    EXCHANGE_CREATED,
    RETURN_AUTHORIZED,
    RETURN_CANCELLED,
    RETURN_IN_TRANSIT,
    RETURN_REJECTED,
    RETURN_REQUESTED,
)
from returns.exceptions import POLICY_CODES, ReturnRefused
from returns.locks import lock_return
from returns.models import (
    CANCELLABLE_STATUSES,
    Condition,
    Exchange,
    ExchangeKind,
    ExchangeStatus,
    ReasonCode,
    Return,
    ReturnLine,
    ReturnSource,
    ReturnStatus,
    policy_snapshot,
)
from returns.policy import RequestedLine, check_return, policy_for
from returns.services.common import line_payload, new_return_number, record, refuse_status
from returns.services.exchanges import exchange_value, on_return_authorized
from returns.tasks import create_return_label_task


@dataclass(frozen=True)
class ReturnRequest:
    lines: list[RequestedLine]
    source: str = ReturnSource.API
    exchange_kind: str = ExchangeKind.NONE
    customer_note: str = ""
    return_node_code: str = ""
    authorize: bool = False  # authorize at once (customer service, the system)
    enforce_window: bool = True
    assume_shipped: bool = False  # the node says it shipped (a refused cancellation)


def _validate_codes(lines: list[RequestedLine]) -> list[FieldError]:
    errors = []
    for i, line in enumerate(lines):
        if line.reason_code not in ReasonCode.values:
            errors.append(
                FieldError(
                    "unknown_reason_code",
                    f"Reason codes: {ReasonCode.values}.",
                    f"lines[{i}].reason_code",
                )
            )
        if line.condition not in Condition.values:
            errors.append(
                FieldError(
                    "unknown_condition", f"Conditions: {Condition.values}.", f"lines[{i}].condition"
                )
            )
        if line.quantity <= 0:
            errors.append(
                FieldError(
                    "invalid_quantity", "Quantity must be at least 1.", f"lines[{i}].quantity"
                )
            )
    return errors


def _return_node(order: Order, code: str) -> Node | None:
    if code:
        node = Node.objects.filter(code=code, is_active=True).first()
        if node is None or not node.can_accept_returns:
            raise InvalidInput(
                [
                    FieldError(
                        "node_not_accepting_returns",
                        f"{code} does not accept returns.",
                        "return_node",
                    )
                ]
            )
        return node
    # The node that shipped the most units, if it takes returns; else any node that does.
    shipped_from = (
        Node.objects.filter(
            fulfillment_orders__order=order, can_accept_returns=True, is_active=True
        )
        .order_by("priority", "code")
        .first()
    )
    return (
        shipped_from
        or Node.objects.filter(can_accept_returns=True, is_active=True)
        .exclude(kind="store")
        .order_by("priority", "code")
        .first()
    )


def request_return(*, order_id: int, request: ReturnRequest, actor: Actor, **extra: Any) -> Return:
    """Open a return for shipped units of the order under the channel's current policy.

    Refuses with `validation_failed` (400: unknown line, more than was shipped and not yet in
    another return, a line not shipped) or, when the policy says no, with 422 and the policy's
    code (`return_window_closed`, `sku_not_returnable`), explained with the dates and the policy
    version. Records `return.requested` (and `return.authorized` when `request.authorize`,
    `exchange.created` when an exchange is asked for). `extra` sets `source_shipment`."""
    errors = _validate_codes(request.lines)
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        order = lock_order(order_id)
        policy = policy_for(order.channel)
        now = timezone.now()
        returnable, errors = check_return(
            order=order,
            policy=policy,
            lines=request.lines,
            now=now,
            enforce_window=request.enforce_window,
            assume_shipped=request.assume_shipped,
        )
        if errors:
            policy_errors = [e for e in errors if e.code in POLICY_CODES]
            if policy_errors and len(policy_errors) == len(errors):
                raise ReturnRefused(errors)
            raise InvalidInput(errors)
        by_number = {r.line.line_number: r.line for r in returnable.values()}
        rma = Return(
            number=new_return_number(),
            order=order,
            source=request.source,
            policy=policy,
            currency=order.currency,
            exchange_kind=request.exchange_kind,
            customer_note=request.customer_note[:500],
            return_node=_return_node(order, request.return_node_code),
            created_by=actor.label[:200],
            **extra,
        )
        try:
            with transaction.atomic():
                rma.save(force_insert=True)
        except IntegrityError:  # a number collision (1 in 10^12), or this shipment's return exists
            if extra.get("source_shipment") is not None:
                return Return.objects.get(source_shipment=extra["source_shipment"])
            rma.number = new_return_number()
            rma.save(force_insert=True)
        lines = [
            ReturnLine(
                rma=rma,
                order_line=by_number[r.line_number],
                quantity=r.quantity,
                reason_code=r.reason_code,
                condition_reported=r.condition,
            )
            for r in request.lines
        ]
        ReturnLine.objects.bulk_create(lines)
        record(
            order,
            rma,
            RETURN_REQUESTED,
            actor,
            {
                "source": rma.source,
                "lines": [line_payload(line) for line in lines],
                "exchange": rma.exchange_kind or None,
                "return_node": rma.return_node.code if rma.return_node else None,
                "policy": policy_snapshot(policy),
            },
        )
        if request.exchange_kind:
            skus = {r.line_number: r.exchange_sku.strip().upper() for r in request.lines}
            _create_exchange(order, rma, lines, skus, actor)
        if request.authorize:
            _authorize(order, rma, actor, now)
    return rma


def _create_exchange(
    order: Order, rma: Return, lines: list[ReturnLine], skus: dict[int, str], actor: Actor
) -> Exchange:
    items = [
        {
            "order_line": line.order_line_id,
            "sku": skus.get(line.order_line.line_number) or line.order_line.sku,
            "quantity": line.quantity,
        }
        for line in lines
    ]
    exchange = Exchange.objects.create(
        rma=rma,
        kind=rma.exchange_kind,
        status=ExchangeStatus.AWAITING_RETURN,
        items=items,
        value=exchange_value(items, order),
        currency=order.currency,
    )
    record(
        order,
        rma,
        EXCHANGE_CREATED,
        actor,
        {
            "kind": exchange.kind,
            "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in items],
            "value": str(exchange.value),
            "currency": exchange.currency,
        },
    )
    return exchange


def _authorize(order: Order, rma: Return, actor: Actor, now: Any) -> None:
    rma.authorize(at=now)
    rma.save(update_fields=["status", "authorized_at", "updated_at"])
    transaction.on_commit(partial(create_return_label_task.delay, rma.pk))
    record(
        order,
        rma,
        RETURN_AUTHORIZED,
        actor,
        {"return_node": rma.return_node.code if rma.return_node else None},
    )
    # An advance exchange ships as soon as the return is authorized.
    on_return_authorized(order, rma, actor)


def authorize_return(*, return_id: int, actor: Actor) -> Return:
    """requested → authorized; `return.authorized`. Idempotent: an authorized return is
    answered as it is."""
    with transaction.atomic():
        order_id = Return.objects.values_list("order_id", flat=True).get(pk=return_id)
        order = lock_order(order_id)
        rma = lock_return(return_id)
        if rma.status == ReturnStatus.AUTHORIZED:
            return rma
        if rma.status != ReturnStatus.REQUESTED:
            raise refuse_status(rma, "authorized")
        _authorize(order, rma, actor, timezone.now())
    return rma


def reject_return(*, return_id: int, reason: str, actor: Actor) -> Return:
    with transaction.atomic():
        order = lock_order(Return.objects.values_list("order_id", flat=True).get(pk=return_id))
        rma = lock_return(return_id)
        if rma.status != ReturnStatus.REQUESTED:
            raise refuse_status(rma, "rejected")
        rma.reject(reason=reason, at=timezone.now())
        rma.save(update_fields=["status", "refused_reason", "closed_at", "updated_at"])
        record(order, rma, RETURN_REJECTED, actor, {"reason": reason})
        _cancel_exchange(order, rma, actor, reason=reason, because="return_rejected")
    return rma


def cancel_return(*, return_id: int, reason: str, actor: Actor) -> Return:
    with transaction.atomic():
        order = lock_order(Return.objects.values_list("order_id", flat=True).get(pk=return_id))
        rma = lock_return(return_id)
        if rma.status == ReturnStatus.CANCELLED:
            return rma
        if rma.status not in CANCELLABLE_STATUSES:
            raise refuse_status(rma, "cancelled")
        exchange = Exchange.objects.filter(rma=rma).first()
        if exchange is not None and exchange.status == ExchangeStatus.REPLACEMENT_PLACED:
            raise refuse_status(rma, "cancelled (its advance exchange already shipped)")
        rma.cancel(reason=reason, at=timezone.now())
        rma.save(update_fields=["status", "refused_reason", "closed_at", "updated_at"])
        record(order, rma, RETURN_CANCELLED, actor, {"reason": reason})
        _cancel_exchange(order, rma, actor, reason=reason, because="return_cancelled")
    return rma


def _cancel_exchange(order: Order, rma: Return, actor: Actor, *, reason: str, because: str) -> None:
    """The return was called off: an exchange still waiting for it is too, with
    `exchange.cancelled` right after the return's event (same transaction, order locked)."""
    exchange = Exchange.objects.select_for_update(of=("self",)).filter(rma=rma).first()
    if exchange is None or exchange.status != ExchangeStatus.AWAITING_RETURN:
        return
    exchange.cancel()
    exchange.save(update_fields=["status", "updated_at"])
    record(
        order,
        rma,
        EXCHANGE_CANCELLED,
        actor,
        {
            "kind": exchange.kind,
            "because": because,
            "reason": reason,
            "value": format_amount(exchange.value, exchange.currency),
            "currency": exchange.currency,
        },
    )


def mark_return_in_transit(*, return_id: int, actor: Actor) -> Return:
    """authorized → in_transit (the carrier scanned the customer's parcel). Idempotent."""
    with transaction.atomic():
        order = lock_order(Return.objects.values_list("order_id", flat=True).get(pk=return_id))
        rma = lock_return(return_id)
        if rma.status == ReturnStatus.IN_TRANSIT:
            return rma
        if rma.status != ReturnStatus.AUTHORIZED:
            raise refuse_status(rma, "marked in transit")
        rma.mark_in_transit()
        rma.save(update_fields=["status", "updated_at"])
        record(order, rma, RETURN_IN_TRANSIT, actor, {"tracking_number": rma.tracking_number})
    return rma
