"""What channels does when the layers below record a fact (oms/events/handlers.py): the outbox.

Subscribed by event type name, in the same transaction as the event:

| event                    | action to the platform                              |
|--------------------------|-----------------------------------------------------|
| `fulfillment.shipped`    | fulfill: the shipped lines with the tracking number |
| `shipment.tracking_updated` | tracking: the carrier's newer scan of a shipped parcel |
| `order.cancelled`        | cancel                                              |
| `order.payment_refunded` | refund the amount (with the order's platform line ids) |
| `return.received`        | return_received (platforms that take it)            |

A type that is not registered in this build (the returns and cancellation work add some) is
not subscribed: `subscribe()` runs when the apps are ready and takes the ones that exist.
Events an adapter caused itself (a cancellation that came from the platform) are not sent back.
"""

from typing import Any

from channels.models import ChannelConnection, OutboundCall, OutboundStatus
from channels.services.outbound import queue_call
from oms.events import registry
from oms.events.handlers import on_event
from oms.events.models import Event
from orders.models import Order, PaymentTransaction
from orders.payments.held import PLATFORM


def _order_of(event: Event, subject: Any) -> Order | None:
    if isinstance(subject, Order):
        return subject
    order = getattr(subject, "order", None)
    if isinstance(order, Order):
        return order
    if event.stream.startswith("order:"):
        return Order.objects.filter(number=event.stream.removeprefix("order:")).first()
    return None


def _connection(order: Order) -> ChannelConnection | None:
    return (
        ChannelConnection.objects.select_related("channel")
        .filter(channel_id=order.channel_id)
        .first()
    )


def _platform_line_ids(order: Order) -> dict[int, str]:
    """The platform's id of each order line, by line number."""
    return dict(order.lines.values_list("line_number", "external_line_id"))


def _from_the_platform(event: Event, connection: ChannelConnection) -> bool:
    return event.actor_kind == "system" and event.actor_label == f"channel:{connection.code}"


def _target(event: Event, subject: Any) -> tuple[Order, ChannelConnection] | None:
    """The channel order an event is about and its connection, unless the platform caused it."""
    order = _order_of(event, subject)
    connection = _connection(order) if order is not None else None
    if order is None or connection is None or _from_the_platform(event, connection):
        return None
    return order, connection


def shipped(event: Event, fulfillment: Any) -> None:
    target = _target(event, fulfillment)
    if target is None:
        return
    order, connection = target
    external = _platform_line_ids(order)
    queue_call(
        connection=connection,
        order=order,
        event=event,
        action="fulfill",
        payload={
            "fulfillment": event.payload["fulfillment"],
            "shipped_at": event.payload.get("shipped_at", ""),
            "packages": event.payload.get("packages", []),
            "lines": [
                {
                    "line_number": line["line_number"],
                    "external_line_id": external.get(line["line_number"], ""),
                    "sku": line["sku"],
                    "quantity": line["quantity"],
                }
                for line in event.payload.get("lines", [])
            ],
        },
    )


def tracking_updated(event: Event, shipment: Any) -> None:
    """A carrier's newer scan of a parcel oms shipped (fulfillment, carrier, tracking_number,
    status, occurred_at, location), with the platform's id of the fulfillment that the
    fulfill call created when it has been sent (Shopify names it in the call's answer)."""
    target = _target(event, shipment)
    if target is None:
        return
    order, connection = target
    fulfilled = (
        OutboundCall.objects.filter(
            connection=connection,
            order=order,
            action="fulfill",
            status=OutboundStatus.SENT,
            payload__fulfillment=event.payload.get("fulfillment"),
        )
        .values_list("response", flat=True)
        .first()
    )
    payload = {key: event.payload.get(key) for key in TRACKING_FIELDS}
    if fulfilled and fulfilled.get("fulfillment_id") is not None:
        payload["platform_fulfillment_id"] = fulfilled["fulfillment_id"]
    queue_call(connection=connection, order=order, event=event, action="tracking", payload=payload)


TRACKING_FIELDS = ("fulfillment", "carrier", "tracking_number", "status", "occurred_at", "location")


def _simple(action: str, extra: Any = None) -> Any:
    def handler(event: Event, subject: Any) -> None:
        target = _target(event, subject)
        if target is None:
            return
        order, connection = target
        payload = {
            key: value
            for key, value in event.payload.items()
            if isinstance(value, str | int | float | bool | type(None) | list | dict)
        }
        payload.setdefault("currency", order.currency)
        if extra is not None:
            payload.update(extra(order, event))
        queue_call(connection=connection, order=order, event=event, action=action, payload=payload)

    handler.__name__ = f"queue_{action}"
    return handler


def _refund_context(order: Order, event: Event) -> dict[str, Any]:
    """What a platform needs beside the amount: the order's number (commercetools names the
    refund by it), the platform's line ids (Magento lists every item, with qty 0), and whether
    the platform holds the payment and so pays the refund itself (`platform_pays`: the oms
    transaction's provider is the platform, orders/payments/held.py)."""
    provider = (
        PaymentTransaction.objects.filter(pk=event.payload.get("transaction"))
        .values_list("provider", flat=True)
        .first()
    )
    external = _platform_line_ids(order)
    return {
        "order": order.number,
        "platform_pays": provider == PLATFORM,
        # the lines a return's refund gives back, with the platform's line ids
        "lines": [
            {**line, "external_line_id": external.get(line["line_number"], "")}
            for line in event.payload.get("lines") or []
        ],
        "external_line_ids": [
            line_id
            for line_id in order.lines.order_by("line_number").values_list(
                "external_line_id", flat=True
            )
            if line_id
        ],
    }


SUBSCRIPTIONS = {
    "fulfillment.shipped": shipped,
    # the carrier's progress of a parcel oms shipped: fulfillment, carrier, tracking number,
    # status, occurred_at, location (fulfillment/services/shipping.py record_tracking)
    "shipment.tracking_updated": tracking_updated,
    "order.cancelled": _simple("cancel"),
    "order.payment_refunded": _simple("refund", _refund_context),
    "return.received": _simple("return_received"),
}


def subscribe() -> list[str]:
    """Register the handlers of the types this build has; the names subscribed."""
    known = {t.name for t in registry.all_types()}
    subscribed = []
    for name, handler in SUBSCRIPTIONS.items():
        if name in known:
            on_event(name)(handler)
            subscribed.append(name)
    return subscribed
