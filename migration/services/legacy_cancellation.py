"""apply_legacy_cancellation(): the legacy system cancelled (all or some lines of) an order oms
only mirrors.

The legacy feed (`POST /api/v1/cutover/{channel}/legacy-orders/{external_id}/cancel/`) and a
cancellations mapping file (migration/importers/reference.py) both end here. The order must be a
mirror (`is_legacy_mirror`): oms never owned it, so it has no reservation or fulfillment order
and the cancel services (fulfillment/services/order_cancellation.py) cancel its units at once,
with their own events (`order.line_cancelled`, `order.cancelled` when nothing is left), and never
ask a node. `order.legacy_cancelled` records what the legacy system did. A cancelled order (or
one with cancelled units) is left out of the shadow comparison (migration/selectors.py): oms
planned the quantity before the cancel. Resending the cancel of a cancelled order changes
nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from fulfillment.services.order_cancellation import (
    CancelOutcome,
    cancel_line_units,
    cancel_order,
)
from migration.exceptions import CutoverErrorCode, CutoverRefused
from migration.models import LegacyDecision
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from oms.events.services import record_event
from orders.events import ORDER_LEGACY_CANCELLED
from orders.locks import lock_order
from orders.models import LineStatus, Order, OrderLine, OrderStatus

LEGACY_CANCEL_REASON = "cancelled in the legacy system"


@dataclass(frozen=True)
class LegacyLineCancel:
    sku: str
    quantity: int


def apply_legacy_cancellation(
    *,
    order_id: int,
    actor: Actor,
    source: str,
    lines: Sequence[LegacyLineCancel] | None = None,
    reason: str = LEGACY_CANCEL_REASON,
) -> CancelOutcome | None:
    """`lines` None: the whole order. None back when the order was already cancelled (a
    resend). Refused `order_not_mirrored` for an order oms owns or handed over itself."""
    with transaction.atomic():
        order = lock_order(order_id)
        if not order.is_legacy_mirror:
            raise CutoverRefused(
                CutoverErrorCode.NOT_MIRRORED,
                f"{order.number} is not mirrored from the legacy system: cancel it in oms.",
            )
        if order.status == OrderStatus.CANCELLED:
            return None
        if lines is None:
            outcome = cancel_order(order_id=order.pk, actor=actor, reason=reason)
        else:
            outcome = CancelOutcome(order=order.number)
            for line, quantity in _by_line(order, lines):
                part = cancel_line_units(
                    order_id=order.pk,
                    line_number=line.line_number,
                    actor=actor,
                    reason=reason,
                    quantity=quantity,
                )
                outcome.cancelled += part.cancelled
                outcome.requested += part.requested
                outcome.status = part.status
        if outcome.requested:  # a mirror is at no node: nothing may be asked of one
            raise RuntimeError(f"{order.number}: a legacy cancel asked a node {outcome.requested}")
        order.refresh_from_db(fields=["status"])
        if order.status == OrderStatus.CANCELLED:
            LegacyDecision.objects.filter(order=order).update(is_cancelled=True)
        record_event(
            stream=order.stream,
            type=ORDER_LEGACY_CANCELLED,
            actor=actor,
            payload={
                "order": order.number,
                "source": source,
                "scope": "order" if lines is None else "lines",
                "cancelled": outcome.cancelled,
                "status": order.status,
            },
            subject=order,
        )
    return outcome


def _by_line(order: Order, lines: Sequence[LegacyLineCancel]) -> list[tuple[OrderLine, int]]:
    """Each SKU's units over its live lines, first line first; refused when the order has not
    that many left."""
    live = list(
        OrderLine.objects.filter(order_id=order.pk)
        .exclude(status=LineStatus.CANCELLED)
        .order_by("line_number")
    )
    errors: list[FieldError] = []
    plan: list[tuple[OrderLine, int]] = []
    for index, wanted in enumerate(lines):
        path = f"lines[{index}]"
        if wanted.quantity < 1:
            errors.append(FieldError("quantity_not_positive", "At least 1.", f"{path}.quantity"))
            continue
        same = [line for line in live if line.sku == wanted.sku]
        left = sum(line.live_quantity for line in same) - sum(
            q for line, q in plan if line.sku == wanted.sku
        )
        if not same:
            errors.append(
                FieldError("unknown_sku", f"{wanted.sku} is not on the order.", f"{path}.sku")
            )
            continue
        if wanted.quantity > left:
            errors.append(
                FieldError(
                    "not_cancellable",
                    f"{wanted.quantity} of {wanted.sku} > {left} left.",
                    f"{path}.quantity",
                )
            )
            continue
        remaining = wanted.quantity
        for line in same:
            taken = sum(q for other, q in plan if other.pk == line.pk)
            take = min(remaining, line.live_quantity - taken)
            if take > 0:
                plan.append((line, take))
                remaining -= take
    if errors:
        raise InvalidInput(errors)
    return plan
