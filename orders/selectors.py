"""Scoped reads of orders. API views, admin and reports read through these, never
`Order.objects` directly, so a principal can only ever see what it may see."""

from django.db.models import Prefetch

from oms.core.errors import NotFound
from oms.core.queries import unique_or_none
from oms.events.models import EventQuerySet
from oms.events.selectors import events_for_stream
from orders.models import ApiClient, Hold, Order, OrderLine, OrderQuerySet


def orders_visible_to_client(client: ApiClient) -> OrderQuerySet:
    return Order.objects.for_channel(client.channel_id).select_related("channel", "pickup_node")


def get_order_for_client(client: ApiClient, number: str) -> Order:
    """The order with `number` if the client's channel owns it; otherwise `order_not_found`
    (404), whether it does not exist or belongs to another channel: no existence leak."""
    order = unique_or_none(
        orders_visible_to_client(client)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("line_number")),
            Prefetch("holds", queryset=Hold.objects.order_by("id")),
        )
        .filter(number=number)
    )
    if order is None:
        raise NotFound(f"No order {number}.", code="order_not_found")
    return order


def order_events_for_client(client: ApiClient, number: str) -> EventQuerySet:
    order = get_order_for_client(client, number)
    return events_for_stream(order.stream)


def orders_for_staff() -> OrderQuerySet:
    """All orders, for admin users (staff see every channel; the admin applies permissions)."""
    return Order.objects.select_related("channel", "pickup_node")
