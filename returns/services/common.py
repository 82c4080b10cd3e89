"""Helpers the return services share: numbers, payloads, the locked unit of work."""

import secrets
from typing import Any

from oms.core.actors import Actor
from oms.events.models import Event
from oms.events.services import record_event
from orders.models import Order
from returns.exceptions import ReturnTransitionRefused
from returns.models import Return, ReturnLine

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as order numbers


def new_return_number() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"RMA-{chars[:4]}-{chars[4:]}"


def line_payload(line: ReturnLine) -> dict[str, Any]:
    return {
        "line_number": line.order_line.line_number,
        "sku": line.order_line.sku,
        "quantity": line.quantity,
        "reason_code": line.reason_code,
        "condition_reported": line.condition_reported,
    }


def record(
    order: Order, rma: Return | None, type_: str, actor: Actor, payload: dict[str, Any], **kw: Any
) -> Event:
    """An event on the order's stream; return events name the return first."""
    body = {"return": rma.number, **payload} if rma is not None else payload
    return record_event(stream=order.stream, type=type_, actor=actor, payload=body, **kw)


def refuse_status(rma: Return, action: str) -> ReturnTransitionRefused:
    return ReturnTransitionRefused(
        "return_transition_refused",
        f"Return {rma.number} is {rma.get_status_display().lower()}; it cannot be {action}.",
        return_number=rma.number,
        status=rma.status,
        action=action,
    )
