"""Apply one 945 shipping advice: find the fulfillment order W06-02 names, map the advice
(fulfillment/x12/mapping.py) and make the calls through the node feedback services:
ship_fulfillment() or reject_fulfillment(), each one transaction that locks the order, logs the
message once (source + message id, so an advice applied twice has one effect), rolls up and
reroutes what was shipped short or rejected.
"""

from typing import Any

from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.services.feedback import (
    FeedbackMessage,
    reject_fulfillment,
    reused_for_fulfillment,
)
from fulfillment.services.shipping import ship_fulfillment
from fulfillment.x12.mapping import REJECT_REASON, SHORT_REASON, LineToShip, map_advice
from fulfillment.x12.results import AdviceResult, X12ImportError
from integrations.models import InboundMessage, InboundStatus
from integrations.services import MessageIdReused, fingerprint
from integrations.x12 import WarehouseShippingAdvice
from inventory.models import Node
from oms.core.actors import Actor
from oms.core.errors import DomainError

KIND = "x12.945"  # one 945 advice in the inbound message log, whether it ships or rejects


class AdviceRefused(X12ImportError):
    """An advice that cannot be applied, with the source it is logged under."""

    def __init__(self, error: DomainError, *, source: str, number: str) -> None:
        super().__init__(error.code, error.detail)
        self.errors = error.errors
        self.source = source
        self.number = number


def apply_advice(
    advice: WarehouseShippingAdvice,
    payload: dict[str, Any],
    message_id: str,
    *,
    node: Node | None,
    fallback_source: str,
    fallback_tracking: str,
    source: str | None = None,
    actor: Actor | None = None,
) -> AdviceResult:
    """Ship (or reject) the fulfillment order the advice names, as message `message_id` from
    `source` (by default x12:<the node>). Raises AdviceRefused when it cannot be applied."""
    number = advice.depositor_order_number or ""
    fo = (
        FulfillmentOrder.objects.select_related("node").filter(number=number).first()
        if number
        else None
    )
    node = node or (fo.node if fo is not None else None)
    source = source or (f"x12:{node.code}" if node else fallback_source)

    def refused(code: str, detail: str) -> AdviceRefused:
        return AdviceRefused(X12ImportError(code, detail), source=source, number=number)

    if fo is None:
        detail = (
            f"No fulfillment order {number!r} (W06-02)."
            if number
            else "The 945 has no depositor order number (W06-02)."
        )
        raise refused("unknown_fulfillment", detail)
    if node is not None and fo.node_id != node.pk:
        raise refused(
            "wrong_node", f"Fulfillment {fo.number} is at {fo.node.code}, not at {node.code}."
        )
    first = (
        InboundMessage.objects.filter(
            source=source, message_id=message_id, status=InboundStatus.PROCESSED
        )
        .order_by()
        .first()
    )
    if first is not None:
        # The same advice again (its fulfillment order and content) has no second effect.
        # Its kind is not compared: advices applied before they were logged as `x12.945`
        # carry the kind of what they did (fulfillment.ship / fulfillment.reject).
        if (first.subject, first.fingerprint) != (fo.number, fingerprint(payload)):
            reused = reused_for_fulfillment(MessageIdReused(source, message_id, first=first))
            raise AdviceRefused(reused, source=source, number=number)
        return AdviceResult(message_id=message_id, fulfillment=number, outcome="duplicate")
    # Logged as one 945 advice whatever it does (ship or reject), the kind its refusal is kept
    # under, so a retry of a refused advice is the same message.
    message = FeedbackMessage(source=source, message_id=message_id, payload=payload, kind=KIND)
    actor = actor or Actor.system(f"x12:{fo.node.code}")
    try:
        plan = map_advice(
            advice,
            lines_to_ship(fo),
            number=fo.number,
            node_timezone=fo.node.timezone,
            fallback_tracking=fallback_tracking,
            now=timezone.now(),
        )
        if plan.rejects:
            reject_fulfillment(
                fulfillment_id=fo.pk, reason=REJECT_REASON, actor=actor, message=message
            )
            return AdviceResult(message_id=message_id, fulfillment=number, outcome="rejected")
        ship_fulfillment(
            fulfillment_id=fo.pk,
            packages=plan.packages,
            actor=actor,
            shipped=plan.shipped,
            short_reason=SHORT_REASON,
            shipped_at=plan.shipped_at,
            message=message,
        )
    except DomainError as exc:
        raise AdviceRefused(exc, source=source, number=number) from exc
    return AdviceResult(
        message_id=message_id,
        fulfillment=number,
        outcome="short_shipped" if plan.short else "shipped",
        tracking_numbers=tuple(p.tracking_number for p in plan.packages),
    )


def lines_to_ship(fo: FulfillmentOrder) -> list[LineToShip]:
    """The fulfillment order's lines, by id, as the mapping reads them."""
    return [
        LineToShip(id=pk, sku=sku, quantity=quantity, upc=upc)
        for pk, sku, quantity, upc in FulfillmentOrderLine.objects.filter(fulfillment=fo)
        .order_by("id")
        .values_list("id", "order_line__sku", "quantity", "order_line__product__upc")
    ]
