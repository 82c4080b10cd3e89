"""Erasing one order's personal data (docs/security.md, "Personal data").

What goes: the customer's name, e-mail and phone, the recipient name, street lines, city and
coordinates of the shipping address, the billing address except its country and region, the
free-text notes, and any of those values quoted in a hold's reason or release note. What stays,
because tax, finance and the KPIs need it and it identifies no one: the country, the region
(state), the first three characters of the postal code (a US ZIP3 area), the payment reference
(the PSP's id, needed to reconcile captures and refunds), and all money, lines, SKUs and
quantities.

The event log is not edited (a trigger forbids it): the erased values are recorded as digests
in a `Redaction` for the order's stream (oms/events/redaction.py, which every payload reader
applies) and an `order.personal_data_erased` event says when and which fields. Idempotent: an
order with nothing left to erase is not touched and gets no second event.
"""

from dataclasses import dataclass, field
from typing import Any

from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.core.transactions import require_atomic
from oms.events.redaction import ERASED, add_redaction, scrub
from oms.events.services import record_event
from orders.events import ORDER_PERSONAL_DATA_ERASED
from orders.locks import lock_order
from orders.models import OPEN_ORDER_STATUSES, DeliveryMethod, Order

POSTAL_PREFIX = 3
BILLING_KEPT = ("country", "region")


@dataclass
class Erasure:
    """What erasing the order changes (or would change, for a dry run)."""

    order_number: str
    stream: str
    fields: list[str] = field(default_factory=list)
    # The values that were in those fields, each with what readers show instead: the caller
    # redacts copies elsewhere (inbound messages, webhook responses). Never logged or stored.
    values: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.fields)


class OrderStillOpen(DomainError):
    def __init__(self, order: Order) -> None:
        super().__init__(
            code="order_still_open",
            detail=f"Order {order.number} is {order.status}: its address is still needed to "
            "fulfil it. Cancel it or wait until it has shipped, then erase.",
            http_status=409,
        )


def _postal_prefix(code: str) -> str:
    return code.replace(" ", "")[:POSTAL_PREFIX].upper()


def _targets(order: Order) -> dict[str, Any]:
    """The erased value of each personal field."""
    billing = order.billing_address or {}
    kept_billing = {k: billing[k] for k in BILLING_KEPT if billing.get(k)}
    if billing.get("postal_code"):
        kept_billing["postal_code"] = _postal_prefix(str(billing["postal_code"]))
    # A ship order must keep a non-empty street line (a check constraint): the marker.
    line1 = ERASED if order.delivery_method == DeliveryMethod.SHIP and order.ship_line1 else ""
    return {
        "customer_name": ERASED,
        "customer_email": "",
        "customer_phone": "",
        "ship_name": "",
        "ship_line1": line1,
        "ship_line2": "",
        "ship_city": "",
        "ship_postal_code": _postal_prefix(order.ship_postal_code),
        "ship_latitude": None,
        "ship_longitude": None,
        "billing_address": kept_billing,
        "notes": "",
    }


def plan_erasure(order: Order) -> Erasure:
    """What erasing `order` would change; nothing is written."""
    erasure = Erasure(order_number=order.number, stream=order.stream)
    for name, target in _targets(order).items():
        current = getattr(order, name)
        if current == target:
            continue
        erasure.fields.append(name)
        if name == "billing_address":
            for key, value in (current or {}).items():
                if key not in BILLING_KEPT and isinstance(value, str) and value.strip():
                    replacement = target.get(key, ERASED) if key == "postal_code" else ERASED
                    erasure.values.setdefault(value, replacement)
        elif isinstance(current, str) and current.strip():
            erasure.values.setdefault(current, target if name == "ship_postal_code" else ERASED)
    return erasure


def erase_order_personal_data(
    *, order_id: int, actor: Actor, reason: str = "", dry_run: bool = False
) -> Erasure:
    """Erase the order's personal data in the caller's transaction (the order is locked).
    Refuses an open order (`order_still_open`). With `dry_run`, only says what would change."""
    require_atomic("erase_order_personal_data()")
    order = lock_order(order_id)
    erasure = plan_erasure(order)
    if not erasure.changed:
        return erasure
    if order.status in OPEN_ORDER_STATUSES:
        raise OrderStillOpen(order)
    if dry_run:
        return erasure
    for name, target in _targets(order).items():
        setattr(order, name, target)
    order.save(update_fields=[*erasure.fields, "updated_at"])
    for hold in order.holds.all():  # free text a person or a fraud screen wrote
        why, note = scrub(hold.reason, erasure.values), scrub(hold.release_note, erasure.values)
        if (why, note) != (hold.reason, hold.release_note):
            hold.reason, hold.release_note = why, note
            hold.save(update_fields=["reason", "release_note", "updated_at"])
    add_redaction(
        stream=order.stream,
        values=erasure.values,
        fields=erasure.fields,
        erased_by=actor.label,
    )
    record_event(
        stream=order.stream,
        type=ORDER_PERSONAL_DATA_ERASED,
        actor=actor,
        payload={"fields": erasure.fields, "reason": reason[:200]},
        subject=order,
    )
    return erasure
