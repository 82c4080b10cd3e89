"""Exchanges: a replacement order instead of a refund.

The replacement is a new order captured through `capture_order` on the same channel, linked to
the return (`Exchange.replacement_order`), priced as the original units with an equal discount
and marked paid: no new charge, and it is routed, released and shipped like any order.

- Even exchange: the replacement is placed when the return is received.
- Advance exchange: the replacement is placed when the return is authorized, and the return is
  due back within the policy's `advance_exchange_days`. `charge_overdue_exchanges()` (beat,
  hourly) charges the replacement's value for every one not received by then.

These run inside the return services' transactions (the order is locked by the caller).
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from oms.core.actors import Actor
from oms.core.money import minor_units
from orders.models import Order, PaymentStatus
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order
from returns.events import EXCHANGE_REPLACEMENT_PLACED, RETURN_CLOSED
from returns.models import Exchange, ExchangeKind, ExchangeStatus, Return
from returns.services.common import record

SYSTEM = Actor.system("exchanges")


def _exchange_of(rma: Return) -> Exchange | None:
    return Exchange.objects.select_for_update(of=("self",)).filter(rma=rma).first()


def _replacement_input(order: Order, rma: Return, exchange: Exchange) -> OrderInput:
    lines_by_id = {line.pk: line for line in order.lines.all()}
    lines = []
    for item in exchange.items:
        original = lines_by_id[item["order_line"]]
        unit_price = original.unit_price
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
        payment_status=PaymentStatus.PAID,
        payment_reference=f"exchange:{rma.number}",
        payment_method="exchange",
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
