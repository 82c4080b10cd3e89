"""Receiving a return at a node and inspecting it.

- `receive_return()`: the units that arrived, counted per line, at a DC (node API, an X12 944
  where the node speaks X12) or a store counter (the "receive return" store screen). Idempotent
  per (source, message id) through the inbound message log, so a double tap or a resent
  message has one effect.
- `inspect_return()`: a disposition for every unit received: restock (back into the node's
  on-hand with a `return_restock` ledger movement; waiting backorders try it), damaged,
  vendor return, destroy. Then the refund is due (scheduled on commit), unless an exchange
  settles the return. With a message (the store screen's form token) it is idempotent per
  (source, message id) too: a double tap is answered with the inspected return and no second
  effect, instead of a refusal.

Lock order: order → return → return lines → (inventory) node → stock levels.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.services import MessageIdReused, Received, finish_message, receive_message
from inventory.models import Node
from inventory.services.returns import RestockLine, restock_returned_units
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from orders.locks import lock_order
from returns.events import RETURN_INSPECTED, RETURN_RECEIVED
from returns.exceptions import ReturnTransitionRefused
from returns.locks import lock_return
from returns.models import (
    RECEIVABLE_STATUSES,
    Disposition,
    Return,
    ReturnLine,
    ReturnStatus,
)
from returns.services.common import record, refuse_status
from returns.services.exchanges import on_return_inspected, on_return_received
from returns.tasks import refund_return_task

RECEIPT_KIND = "return.receipt"
INSPECTION_KIND = "return.inspection"


@dataclass(frozen=True)
class ReceiptMessage:
    """Who sent the receipt and its id: a store form's token, a node's message id. A receipt
    from a document (an X12 944) is logged as that document: its own `kind` and `payload`, so
    the log holds what the node sent and a refused one can be applied again from it."""

    source: str
    message_id: str
    kind: str = ""
    payload: dict[str, Any] | None = None


def _return_lines(rma: Return) -> list[ReturnLine]:
    return list(
        ReturnLine.objects.select_for_update(of=("self",))
        .filter(rma=rma)
        .select_related("order_line")
        .order_by("order_line__line_number", "id")
    )


def receive_return(
    *,
    return_id: int,
    node_id: int,
    actor: Actor,
    received: Mapping[int, int] | None = None,
    message: ReceiptMessage | None = None,
    damaged: Mapping[int, int] | None = None,
) -> Return:
    """authorized | in_transit → received at `node_id`, with the units counted per line
    number (`received`; default: every unit asked for). At least one unit must arrive; none
    more than asked. `damaged`: units per line number the node reports damaged on arrival
    (at most those received), kept for the inspection to start from. `return.received`; an
    even exchange's replacement is placed now."""
    rma, _duplicate = receive_return_once(
        return_id=return_id,
        node_id=node_id,
        actor=actor,
        received=received,
        message=message,
        damaged=damaged,
    )
    return rma


def receive_return_once(
    *,
    return_id: int,
    node_id: int,
    actor: Actor,
    received: Mapping[int, int] | None = None,
    message: ReceiptMessage | None = None,
    damaged: Mapping[int, int] | None = None,
) -> tuple[Return, bool]:
    """`receive_return()`, and whether `message` had been applied before (True: nothing was
    done now), for a caller that reports duplicates (the X12 944 import)."""
    with transaction.atomic():
        order = lock_order(Return.objects.values_list("order_id", flat=True).get(pk=return_id))
        rma = lock_return(return_id)
        if message is not None:
            logged = _log(
                message,
                message.kind or RECEIPT_KIND,
                rma,
                message.payload
                if message.payload is not None
                else {
                    "node": node_id,
                    "received": {str(k): v for k, v in (received or {}).items()},
                },
            )
            if logged.duplicate:
                return rma, True
        if rma.status not in RECEIVABLE_STATUSES:
            raise refuse_status(rma, "received")
        node = Node.objects.get(pk=node_id)
        if not node.can_accept_returns:
            raise ReturnTransitionRefused(
                "node_not_accepting_returns", f"{node.name} does not accept returns."
            )
        lines = _return_lines(rma)
        counts = {line.order_line.line_number: line.quantity for line in lines}
        if received is not None:
            errors = [
                FieldError("unknown_line", f"Return {rma.number} has no line {n}.", f"received.{n}")
                for n in received
                if n not in counts
            ]
            errors += [
                FieldError(
                    "quantity_exceeds_return",
                    f"Line {n}: {q} received, {counts[n]} expected.",
                    f"received.{n}",
                )
                for n, q in received.items()
                if n in counts and not 0 <= q <= counts[n]
            ]
            if errors:
                raise InvalidInput(errors)
            counts = {n: received.get(n, 0) for n in counts}
        if sum(counts.values()) == 0:
            raise InvalidInput(
                [FieldError("nothing_received", "Count at least one unit.", "received")]
            )
        damaged = damaged or {}
        damage_errors = [
            FieldError(
                "damaged_exceeds_received",
                f"Line {n}: {q} reported damaged, {counts.get(n, 0)} received.",
                f"damaged.{n}",
            )
            for n, q in damaged.items()
            if not 0 <= q <= counts.get(n, 0)
        ]
        if damage_errors:
            raise InvalidInput(damage_errors)
        for line in lines:
            number = line.order_line.line_number
            line.received_quantity = counts[number]
            line.reported_damaged_quantity = damaged.get(number, 0)
            line.save(
                update_fields=["received_quantity", "reported_damaged_quantity", "updated_at"]
            )
        now = timezone.now()
        rma.receive(node=node, at=now)
        rma.save(update_fields=["status", "received_node", "received_at", "updated_at"])
        record(
            order,
            rma,
            RETURN_RECEIVED,
            actor,
            {
                "node": node.code,
                "lines": [
                    {
                        "line_number": line.order_line.line_number,
                        "sku": line.order_line.sku,
                        "expected": line.quantity,
                        "received": line.received_quantity,
                        # only when the node reported damage (944 W13)
                        **(
                            {"reported_damaged": line.reported_damaged_quantity}
                            if line.reported_damaged_quantity
                            else {}
                        ),
                    }
                    for line in lines
                ],
            },
        )
        on_return_received(order, rma, actor)
        if message is not None:
            finish_message(logged.message, result={"return": rma.number, "status": rma.status})
    return rma, False


def inspect_return(
    *,
    return_id: int,
    dispositions: Mapping[int, Mapping[str, int]],
    actor: Actor,
    note: str = "",
    message: ReceiptMessage | None = None,
) -> Return:
    """received → inspected. `dispositions` maps each line number to units per disposition
    (`restock`, `damaged`, `vendor_return`, `destroy`); they must add up to the units
    received on every line. Restocked units go back into the receiving node's on-hand
    (`inventory.return_restocked`, backorders try them). `return.inspected`; the refund is
    scheduled on commit unless an exchange settles the return. `message`: idempotent per
    (source, message id); the same id with other dispositions is `message_id_reused`."""
    with transaction.atomic():
        order = lock_order(Return.objects.values_list("order_id", flat=True).get(pk=return_id))
        rma = lock_return(return_id)
        logged = None
        if message is not None:
            logged = _log(
                message,
                INSPECTION_KIND,
                rma,
                {
                    "dispositions": {
                        str(n): {str(k): int(q) for k, q in sorted(given.items())}
                        for n, given in sorted(dispositions.items())
                    },
                    "note": note,
                },
            )
            if logged.duplicate:
                return rma
        if rma.status != ReturnStatus.RECEIVED:
            raise refuse_status(rma, "inspected")
        lines = _return_lines(rma)
        errors: list[FieldError] = []
        for line in lines:
            number = line.order_line.line_number
            given = dict(dispositions.get(number, {}))
            unknown = set(given) - set(Disposition.values)
            if unknown:
                errors.append(
                    FieldError(
                        "unknown_disposition",
                        f"Dispositions: {Disposition.values}.",
                        f"dispositions.{number}",
                    )
                )
                continue
            if any(q < 0 for q in given.values()) or sum(given.values()) != line.received_quantity:
                errors.append(
                    FieldError(
                        "dispositions_do_not_add_up",
                        f"Line {number}: {line.received_quantity} received, "
                        f"{sum(given.values())} given a disposition.",
                        f"dispositions.{number}",
                    )
                )
                continue
            line.restock_quantity = given.get(Disposition.RESTOCK, 0)
            line.damaged_quantity = given.get(Disposition.DAMAGED, 0)
            line.vendor_return_quantity = given.get(Disposition.VENDOR_RETURN, 0)
            line.destroy_quantity = given.get(Disposition.DESTROY, 0)
            line.inspection_note = note[:300]
        extra = set(dispositions) - {line.order_line.line_number for line in lines}
        errors += [
            FieldError("unknown_line", f"Return {rma.number} has no line {n}.", f"dispositions.{n}")
            for n in sorted(extra)
        ]
        if errors:
            raise InvalidInput(errors)
        ReturnLine.objects.bulk_update(
            lines,
            [
                "restock_quantity",
                "damaged_quantity",
                "vendor_return_quantity",
                "destroy_quantity",
                "inspection_note",
            ],
        )
        restock = [
            RestockLine(product_id=line.order_line.product_id, quantity=line.restock_quantity)
            for line in lines
            if line.restock_quantity
        ]
        node = Node.objects.get(pk=rma.received_node_id or 0)  # set by Return.receive
        if restock:
            restock_returned_units(
                node_id=node.pk, lines=restock, reference=rma.number, actor=actor, note="return"
            )
        rma.mark_inspected(at=timezone.now())
        rma.save(update_fields=["status", "inspected_at", "updated_at"])
        record(
            order,
            rma,
            RETURN_INSPECTED,
            actor,
            {
                "node": node.code,
                "note": note,
                "lines": [
                    {
                        "line_number": line.order_line.line_number,
                        "sku": line.order_line.sku,
                        "received": line.received_quantity,
                        **dict(line.disposition_counts().items()),
                    }
                    for line in lines
                ],
            },
        )
        if not on_return_inspected(order, rma, actor):
            transaction.on_commit(partial(refund_return_task.delay, rma.pk))
        if logged is not None:
            finish_message(logged.message, result={"return": rma.number, "status": rma.status})
    return rma


def _log(message: ReceiptMessage, kind: str, rma: Return, payload: dict[str, Any]) -> Received:
    """The message in the inbound log, in the caller's transaction (see receive_message)."""
    try:
        return receive_message(
            source=message.source,
            message_id=message.message_id,
            kind=kind,
            payload=payload,
            subject=rma.number,
        )
    except MessageIdReused as exc:
        raise ReturnTransitionRefused("message_id_reused", exc.detail) from None
