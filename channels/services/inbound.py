"""Platform orders in: one notice (a webhook, a polled order) → the inbound message log → the
same `capture_order()` the API calls, in one transaction.

    with transaction.atomic():
        receive_message(source="channel:<code>", message_id=<delivery id>)   duplicate → its answer
        order: new → capture_order();  known → cancel if the platform cancelled it
        cancelled: cancel the order's open lines (orders/services/cancellation.py)
        finish_message(result)

Idempotency: a redelivered webhook (same delivery id) is answered from the log; the same order
in another delivery meets the (channel, external id) uniqueness of orders and is acknowledged
as a duplicate. A refusal (a mapping error such as `unknown_sku`, `unknown_currency`,
`shipping_address_required`) is kept in the log as dead with its code, which raises an
`integration_failed` case (ops/handlers.py, `inbound.message_dead`); the platform is answered
200 with the refusal, since it cannot fix our catalogue. A person fixes the mapping or the
catalogue and re-processes the message (admin, exception console), which runs `apply_logged`
again under the same message id.
"""

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from channels.adapters.base import Adapter, CallFailed, MappingError, Notice, Topic, adapter_for
from channels.http import Client
from channels.models import ChannelConnection
from integrations.models import InboundMessage
from integrations.services import (
    AfterFailure,
    MessageIdReused,
    already_processed,
    finish_message,
    receive_message,
    record_failure,
)
from oms.core.actors import Actor
from oms.core.errors import DomainError, InvalidInput
from orders.exceptions import DuplicateOrder
from orders.models import LineStatus, Order, OrderStatus
from orders.payments.held import held_by_platform
from orders.services.cancellation import CANCELLABLE, cancel_order_line
from orders.services.capture import capture_order
from orders.services.payments import refund_payment

logger = logging.getLogger(__name__)

KIND = "channel.order"
# A notice that only names an order (Amazon's ORDER_CHANGE): nobody sends it again, so a
# failed read of the order is retried automatically (integrations/inbound.py), then dead.
REFETCH_KIND = "channel.order_change"


class PlatformUnreachable(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="platform_unreachable", detail=detail, http_status=502)


def channel_actor(connection: ChannelConnection) -> Actor:
    """Who acts for a platform: the outbound relay skips events this actor caused, so a
    cancellation that came from the platform is not sent back to it."""
    return Actor(kind="system", id=connection.code, label=f"channel:{connection.code}")


def receive_notice(connection: ChannelConnection, notice: Notice) -> dict[str, Any]:
    """Apply one notice; answers what happened (`captured`, `duplicate`, `cancelled`,
    `unchanged`, `noted`, `ignored` or `refused` with its `code`). Raises only
    `message_id_reused` (the same delivery id with another body)."""
    if notice.topic == Topic.IGNORED:
        return {"status": "ignored"}
    envelope = {
        "platform": connection.platform,
        "topic": notice.topic,
        "external_id": notice.external_id,
        "body": notice.payload,
    }
    kind = REFETCH_KIND if notice.topic == Topic.REFETCH else KIND
    try:
        return apply_logged(connection, notice.delivery_id, envelope)
    except MessageIdReused:
        raise
    except DomainError as exc:
        record_failure(
            source=connection.source,
            message_id=notice.delivery_id,
            kind=kind,
            payload=envelope,
            error=exc,
            subject=notice.external_id[:100],
            then=AfterFailure.RETRY if exc.code == "platform_unreachable" else AfterFailure.DEAD,
        )
        logger.info(
            "channel order refused",
            extra={"channel": connection.code, "code": exc.code, "external_id": notice.external_id},
        )
        return {"status": "refused", "code": exc.code, "detail": exc.detail}


def apply_logged(
    connection: ChannelConnection, message_id: str, envelope: dict[str, Any]
) -> dict[str, Any]:
    """The message's unit of work (also the re-process path); raises the refusal."""
    adapter = adapter_for(connection.platform)
    if adapter is None:
        raise MappingError("unknown_platform", f"No adapter for {connection.platform}.")
    kind = KIND
    if envelope["topic"] == Topic.REFETCH:
        # Read the order before the transaction (network I/O); the log keeps the notice.
        kind = REFETCH_KIND
        if already_processed(source=connection.source, message_id=message_id):
            envelope = {**envelope, "fetched": None}
        else:
            envelope = {**envelope, "fetched": _fetch(adapter, connection, envelope)}
    logged = {k: v for k, v in envelope.items() if k != "fetched"}
    with transaction.atomic():
        received = receive_message(
            source=connection.source,
            message_id=message_id,
            kind=kind,
            payload=logged,
            subject=str(envelope["external_id"])[:100],
        )
        if received.duplicate:
            # the answer it had, marked as a repeat
            return {**received.message.result, "status": "duplicate", "duplicate": True}
        result = _apply(adapter, connection, envelope)
        finish_message(received.message, result=result)
        ChannelConnection.objects.filter(pk=connection.pk).update(last_in_at=timezone.now())
    return result


def _fetch(adapter: Adapter, connection: ChannelConnection, envelope: dict[str, Any]) -> Any:
    client = Client(base_url=connection.base_url)
    try:
        adapter.authenticate(client, connection)
        return adapter.fetch_order(client, connection, str(envelope["external_id"]))
    except CallFailed as exc:
        raise PlatformUnreachable(
            f"Could not read order {envelope['external_id']} from {connection.platform}: "
            f"{exc.detail}"
        ) from None


def reprocess_platform_order(message: InboundMessage, actor: Actor) -> dict[str, Any]:
    """integrations/inbound.py's handler: apply the kept message again, after a fix."""
    code = message.source.removeprefix("channel:")
    connection = ChannelConnection.objects.select_related("channel").get(channel__code=code)
    return apply_logged(connection, message.message_id, message.payload)


def _apply(
    adapter: Adapter, connection: ChannelConnection, envelope: dict[str, Any]
) -> dict[str, Any]:
    topic, body = envelope["topic"], envelope["body"]
    if topic == Topic.REFETCH:
        topic, body = Topic.ORDER, envelope["fetched"]
    external_id = str(envelope["external_id"])
    actor = channel_actor(connection)
    existing = Order.objects.filter(channel=connection.channel, external_id=external_id).first()
    if topic == Topic.ORDER:
        if existing is not None:
            if adapter.is_cancelled(body):
                return _cancel(existing, connection, actor)
            return {"status": "unchanged", "order": existing.number}
        if adapter.is_cancelled(body):
            return {"status": "ignored", "reason": "cancelled before it was captured"}
        data = adapter.order_input(body, connection.settings)
        try:
            order = capture_order(channel=connection.channel, data=data, actor=actor)
        except DuplicateOrder as exc:  # captured concurrently by another delivery
            return {"status": "duplicate", "order": exc.extra.get("number", "")}
        except InvalidInput as exc:
            raise _mapping_refusal(exc) from None
        adapter.on_captured(connection, order, body)
        return {"status": "captured", "order": order.number}
    if existing is None:
        return {"status": "ignored", "reason": "no such order in oms"}
    if topic == Topic.CANCELLED:
        return _cancel(existing, connection, actor)
    if topic == Topic.REFUND:
        return _platform_refund(existing, connection, actor, body)
    return {"status": "ignored"}


def _platform_refund(
    order: Order, connection: ChannelConnection, actor: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    """The platform refunded (Shopify `refunds/create`), maybe by line (`refund_line_items`):
    - units refunded with `restock_type` `cancel` (never shipped) are cancelled in oms when they
      are still cancellable;
    - when the platform holds the payment (orders/payments/held.py), the refunded amount is
      recorded in oms (`refund_payment`, key `<source>:refund:<refund id>`) with its lines, so
      oms's figures are the platform's; caused by the platform, it is not sent back to it.
    Otherwise (oms's provider holds the payment) it is noted with the order."""
    summary = _refund_summary(body)
    by_platform_id = {
        line.external_line_id: line for line in order.lines.exclude(external_line_id="")
    }
    lines = []
    cancelled = []
    for item in body.get("refund_line_items") or []:
        line = by_platform_id.get(str(item.get("line_item_id") or ""))
        quantity = int(item.get("quantity") or 0)
        if line is None or quantity <= 0:
            continue
        lines.append({"line_number": line.line_number, "quantity": quantity})
        if item.get("restock_type") == "cancel" and line.status in CANCELLABLE:
            cancel_order_line(
                order_id=order.pk,
                line_id=line.pk,
                actor=actor,
                reason=f"refunded on {connection.get_platform_display()}",
                quantity=min(quantity, line.quantity),
            )
            cancelled.append(line.line_number)
    result: dict[str, Any] = {
        "status": "noted",
        "order": order.number,
        "refund": {**summary, "lines": lines, "cancelled_lines": cancelled},
    }
    amount = sum((Decimal(a) for a in summary["amounts"]), Decimal("0"))
    order.refresh_from_db()
    if amount > 0 and summary["id"] and held_by_platform(order):
        tx = refund_payment(
            order_id=order.pk,
            amount=amount,
            actor=actor,
            reason=f"refunded on {connection.get_platform_display()}",
            idempotency_key=f"{connection.source}:refund:{summary['id']}",
            lines=lines,
        )
        result.update(status="recorded", transaction=tx.pk)
    return result


def _cancel(order: Order, connection: ChannelConnection, actor: Actor) -> dict[str, Any]:
    if order.status == OrderStatus.CANCELLED:
        return {"status": "unchanged", "order": order.number}
    lines = list(order.lines.filter(status__in=CANCELLABLE).order_by("line_number"))
    for line in lines:
        cancel_order_line(
            order_id=order.pk,
            line_id=line.pk,
            actor=actor,
            reason=f"cancelled on {connection.get_platform_display()}",
        )
    at_node = order.lines.exclude(status__in=[*CANCELLABLE, LineStatus.CANCELLED]).count()
    return {
        "status": "cancelled",
        "order": order.number,
        "lines_cancelled": len(lines),
        "lines_not_cancellable": at_node,
    }


def _refund_summary(body: dict[str, Any]) -> dict[str, Any]:
    transactions = body.get("transactions") or []
    return {
        "id": str(body.get("id") or ""),
        "amounts": [
            str(t.get("amount"))
            for t in transactions
            if t.get("kind") == "refund" and t.get("status") in ("success", None)
        ],
    }


def _mapping_refusal(exc: InvalidInput) -> MappingError:
    """capture_order's refusal under the code of its first problem (unknown_sku,
    unknown_currency, shipping_address_required, ...), every problem listed."""
    first = exc.errors[0] if exc.errors else None
    return MappingError(
        first.code if first else exc.code,
        "; ".join(e.detail for e in exc.errors) or exc.detail,
        errors=[e.as_dict() for e in exc.errors],
    )
