"""Scoped reads of returns, refunds and exchanges. The API reads through these: a channel's
client sees only its channel's returns (another channel's is `return_not_found`, 404, like a
missing one); the store screens read through `returns_expected_at()` with the associate's
stores; the admin reads everything its permissions allow."""

from collections.abc import Iterable

from django.db.models import Prefetch, Q, QuerySet

from oms.api.clients import ApiClientLike
from oms.core.errors import NotFound
from oms.core.queries import unique_or_none
from returns.models import (
    RECEIVABLE_STATUSES,
    Refund,
    Return,
    ReturnLine,
)


def _with_details(returns: QuerySet[Return]) -> QuerySet[Return]:
    return returns.select_related(
        "order", "policy", "return_node", "received_node", "exchange__replacement_order"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=ReturnLine.objects.select_related("order_line").order_by(
                "order_line__line_number"
            ),
        ),
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")),
    )


def returns_visible_to_client(client: ApiClientLike) -> QuerySet[Return]:
    if client.channel_id is None:  # a node's key: no channel, no returns
        return Return.objects.none()
    return _with_details(Return.objects.filter(order__channel_id=client.channel_id))


def returns_of_order(order_id: int) -> QuerySet[Return]:
    return _with_details(Return.objects.filter(order_id=order_id)).order_by("created_at", "id")


def get_return_for_client(client: ApiClientLike, number: str) -> Return:
    rma = unique_or_none(returns_visible_to_client(client).filter(number=number))
    if rma is None:
        raise NotFound(f"No return {number}.", code="return_not_found")
    return rma


def returns_expected_at(node_ids: Iterable[int]) -> QuerySet[Return]:
    """Returns the nodes wait for: authorized or in transit, expected at one of them."""
    return _with_details(
        Return.objects.filter(status__in=RECEIVABLE_STATUSES, return_node_id__in=list(node_ids))
    ).order_by("created_at", "id")


def find_return_for_nodes(number: str, node_ids: Iterable[int]) -> Return | None:
    """A return the customer brings to the counter by its number: any receivable one (a store
    that takes returns takes them all), or one already received at these nodes."""
    ids = list(node_ids)
    return unique_or_none(
        _with_details(
            Return.objects.filter(number=number.strip().upper()).filter(
                Q(status__in=RECEIVABLE_STATUSES) | Q(received_node_id__in=ids)
            )
        )
    )


def returns_received_at(node_ids: Iterable[int]) -> QuerySet[Return]:
    return _with_details(Return.objects.filter(received_node_id__in=list(node_ids))).order_by(
        "-received_at", "-id"
    )
