"""Exchanges: a replacement order instead of a refund.

The replacement is a new order captured through `capture_order` on the same channel, linked to
the return (`Exchange.replacement_order`), priced as the original units with an equal discount
and marked paid: no new charge, and it is routed, released and shipped like any order.

- Even exchange: the replacement is placed when the return is received.
- Advance exchange: the replacement is placed when the return is authorized (its payment
  authorized at 0: the card on file stands behind it), and the return is due back within the
  policy's `advance_exchange_days`. Received in time: the replacement's payment settles at zero
  (`order.payment_settled`), so it completes once delivered. Not received by then: the sweep
  (`charge_overdue_exchange`, hourly) charges the replacement's value, once.

These run inside the return services' transactions (the order is locked by the caller).
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.errors import TransitionRefused
from oms.core.money import format_amount, minor_units
from orders.locks import lock_order
from orders.models import Order, PaymentStatus, TransactionStatus
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order
from orders.services.payments import (
    PaymentErrorCode,
    authorize_payment,
    capture_payment,
    settle_payment_at_zero,
)
from returns.events import (
    EXCHANGE_CHARGED,
    EXCHANGE_COMPLETED,
    EXCHANGE_REPLACEMENT_PLACED,
    RETURN_CLOSED,
)
from returns.models import Exchange, ExchangeKind, ExchangeStatus, Return, ReturnStatus
from returns.services.common import record

SYSTEM = Actor.system("exchanges")


def _exchange_of(rma: Return) -> Exchange | None:
    return Exchange.objects.select_for_update(of=("self",)).filter(rma=rma).first()


def _replacement_input(order: Order, rma: Return, exchange: Exchange) -> OrderInput:
    lines_by_id = {line.pk: line for line in order.lines.all()}
    lines = []
    for item in exchange.items:
        original = lines_by_id[item["order_line"]]
        unit_price = Decimal(format_amount(original.unit_price, order.currency))  # 4 places stored
        quantity = int(item["quantity"])
        lines.append(
            LineInput(
                sku=item["sku"],
                quantity=quantity,
                unit_price=unit_price,
                discount=unit_price * quantity,  # an exchange: the same goods, nothing to pay
                external_line_id=f"{rma.number}/{original.line_number}",
            )
        )
    address = None
    if order.delivery_method == "ship":
        address = AddressInput(
            name=order.ship_name,
            line1=order.ship_line1,
            line2=order.ship_line2,
            city=order.ship_city,
            region=order.ship_region,
            postal_code=order.ship_postal_code,
            country=order.ship_country,
            latitude=order.ship_latitude,
            longitude=order.ship_longitude,
        )
    return OrderInput(
        external_id=f"{order.external_id}-{rma.number}"[:100],
        placed_at=timezone.now(),
        currency=order.currency,
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        customer_phone=order.customer_phone,
        delivery_method=order.delivery_method,
        service_level=order.service_level,
        pickup_node_code=order.pickup_node.code
        if order.pickup_node_id and order.pickup_node
        else "",
        shipping_address=address,
        # Even: nothing will ever be charged (paid). Advance: the card on file stands behind it
        # (authorized at 0) until the return arrives, when it settles at zero
        # (settle_payment_at_zero); if it never does, charge_overdue_exchange() charges it.
        payment_status=PaymentStatus.AUTHORIZED
        if exchange.kind == ExchangeKind.ADVANCE
        else PaymentStatus.PAID,
        payment_reference=order.payment_reference
        if exchange.kind == ExchangeKind.ADVANCE
        else f"exchange:{rma.number}",
        payment_method=order.payment_method
        if exchange.kind == ExchangeKind.ADVANCE
        else "exchange",
        notes=f"Replacement for return {rma.number} of order {order.number}.",
        lines=lines,
    )


def _place_replacement(order: Order, rma: Return, exchange: Exchange, actor: Actor) -> Order:
    replacement = capture_order(
        channel=order.channel, data=_replacement_input(order, rma, exchange), actor=actor
    )
    exchange.place_replacement(order=replacement)
    fields = ["status", "replacement_order", "updated_at"]
    if exchange.kind == ExchangeKind.ADVANCE:
        exchange.due_at = timezone.now() + timedelta(days=rma.policy.advance_exchange_days)
        fields.append("due_at")
    exchange.save(update_fields=fields)
    record(
        order,
        rma,
        EXCHANGE_REPLACEMENT_PLACED,
        actor,
        {
            "kind": exchange.kind,
            "replacement_order": replacement.number,
            "due_at": exchange.due_at.isoformat() if exchange.due_at else None,
        },
    )
    return replacement


def on_return_authorized(order: Order, rma: Return, actor: Actor) -> None:
    """An advance exchange ships now."""
    exchange = _exchange_of(rma)
    if (
        exchange is not None
        and exchange.kind == ExchangeKind.ADVANCE
        and exchange.status == ExchangeStatus.AWAITING_RETURN
    ):
        _place_replacement(order, rma, exchange, actor)


def on_return_received(order: Order, rma: Return, actor: Actor) -> None:
    """An even exchange ships now; an advance exchange came back in time."""
    exchange = _exchange_of(rma)
    if exchange is None:
        return
    if exchange.kind == ExchangeKind.EVEN and exchange.status == ExchangeStatus.AWAITING_RETURN:
        _place_replacement(order, rma, exchange, actor)
    if exchange.status == ExchangeStatus.REPLACEMENT_PLACED:
        exchange.complete()
        exchange.save(update_fields=["status", "updated_at"])
        if exchange.kind == ExchangeKind.ADVANCE and exchange.replacement_order_id:
            # Back in time: the card on file no longer stands behind the replacement; its
            # payment settles at zero (order.payment_settled) so it completes once delivered.
            settle_payment_at_zero(
                order_id=exchange.replacement_order_id,
                actor=actor,
                reason=f"advance exchange {rma.number} returned in time",
            )
        replacement = exchange.replacement_order  # loaded now: after the settlement above
        record(
            order,
            rma,
            EXCHANGE_COMPLETED,
            actor,
            {
                "kind": exchange.kind,
                "replacement_order": replacement.number if replacement else None,
                "charged": format_amount(Decimal("0"), order.currency),
                "currency": order.currency,
                "replacement_payment_status": replacement.payment_status if replacement else None,
            },
        )


def on_return_inspected(order: Order, rma: Return, actor: Actor) -> bool:
    """A return settled by an exchange closes once inspected (nothing to refund). True when
    it did."""
    exchange = _exchange_of(rma)
    if exchange is None or exchange.status != ExchangeStatus.COMPLETED:
        return False
    rma.close(at=timezone.now())
    rma.save(update_fields=["status", "closed_at", "updated_at"])
    record(order, rma, RETURN_CLOSED, actor, {"settled_by": "exchange", "refunded": "0"})
    return True


def exchange_value(items: list[dict[str, object]], order: Order) -> Decimal:
    lines = {line.pk: line for line in order.lines.all()}
    total = Decimal("0")
    for item in items:
        line = lines[int(str(item["order_line"]))]
        quantity = int(str(item["quantity"]))
        total += (line.total + line.tax) / line.quantity * quantity
    return total.quantize(Decimal(1).scaleb(-minor_units(order.currency)))


def overdue_exchange_ids(now: object = None) -> list[int]:
    return list(
        Exchange.objects.filter(
            kind=ExchangeKind.ADVANCE,
            status=ExchangeStatus.REPLACEMENT_PLACED,
            due_at__lt=now or timezone.now(),
        )
        .order_by("due_at", "id")
        .values_list("id", flat=True)
    )


def charge_overdue_exchange(*, exchange_id: int, actor: Actor = SYSTEM) -> Exchange:
    """An advance exchange whose return is not received by `due_at`: the replacement's value is
    authorized and captured on the replacement order (keys `exchange:<RMA>:authorize` and
    `...:capture`, so running it again charges nothing twice), then `exchange.charged` and the
    return closes (`settled_by` exchange_charged). Idempotent; does nothing when the return
    arrived meanwhile or the exchange is settled."""
    exchange = Exchange.objects.select_related("rma").get(pk=exchange_id)
    rma = exchange.rma
    if (
        exchange.status != ExchangeStatus.REPLACEMENT_PLACED
        or exchange.kind != ExchangeKind.ADVANCE
        or exchange.replacement_order_id is None
        or exchange.due_at is None
        or exchange.due_at > timezone.now()
    ):
        return exchange
    if rma.status not in (ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT):
        return exchange  # it came back (or was settled another way)
    replacement_id = exchange.replacement_order_id
    authorized = authorize_payment(
        order_id=replacement_id,
        amount=Decimal(format_amount(exchange.value, exchange.currency)),
        actor=actor,
        idempotency_key=f"exchange:{rma.number}:authorize",
    )
    if authorized.status != TransactionStatus.SUCCEEDED:
        return exchange  # declined (a payment_failed case is open) or no answer: retried later
    if not Return.objects.filter(
        pk=rma.pk, status__in=(ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT)
    ).exists():
        return exchange  # it came back while the authorization was asked for: no capture
    try:
        captured = capture_payment(
            order_id=replacement_id,
            amount=Decimal(format_amount(exchange.value, exchange.currency)),
            actor=actor,
            idempotency_key=f"exchange:{rma.number}:capture",
            settles_order=True,
        )
    except TransitionRefused as exc:
        if exc.code in (
            PaymentErrorCode.PAYMENT_NOT_CAPTURABLE,  # settled at zero: it came back
            PaymentErrorCode.PAYMENT_IN_PROGRESS,  # another sweep is capturing it
        ):
            return exchange
        raise
    if captured.status != TransactionStatus.SUCCEEDED:
        return exchange
    with transaction.atomic():
        order = lock_order(rma.order_id)
        locked_rma = Return.objects.select_for_update(of=("self",)).get(pk=rma.pk)
        exchange = Exchange.objects.select_for_update(of=("self",)).get(pk=exchange_id)
        if exchange.status != ExchangeStatus.REPLACEMENT_PLACED:
            return exchange
        exchange.charge(reference=captured.provider_reference, at=timezone.now())
        exchange.save(update_fields=["status", "charge_reference", "charged_at", "updated_at"])
        record(
            order,
            locked_rma,
            EXCHANGE_CHARGED,
            actor,
            {
                "amount": format_amount(exchange.value, exchange.currency),
                "currency": exchange.currency,
                "replacement_order": exchange.replacement_order.number
                if exchange.replacement_order
                else None,
                "payment_transaction": captured.pk,
            },
        )
        if locked_rma.status in (ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT):
            locked_rma.close(at=timezone.now())
            locked_rma.save(update_fields=["status", "closed_at", "updated_at"])
            record(
                order,
                locked_rma,
                RETURN_CLOSED,
                actor,
                {"settled_by": "exchange_charged", "refunded": "0"},
            )
    return exchange
