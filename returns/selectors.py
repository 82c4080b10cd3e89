"""Scoped reads of returns, refunds and exchanges. The API reads through these: a channel's
client sees only its channel's returns (another channel's is `return_not_found`, 404, like a
missing one); the store screens read through `returns_expected_at()` with the associate's
stores; the admin reads everything its permissions allow."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from oms.api.clients import ApiClientLike
from oms.core.errors import NotFound
from oms.core.queries import unique_or_none
from orders.models import Order
from returns.models import (
    RECEIVABLE_STATUSES,
    Refund,
    RefundStatus,
    Return,
    ReturnLine,
    ReturnSource,
)


def orders_placed_between(t0: datetime, t1: datetime, channel_id: int | None = None) -> int:
    orders = Order.objects.filter(placed_at__gte=t0, placed_at__lt=t1)
    if channel_id is not None:
        orders = orders.filter(channel_id=channel_id)
    return orders.count()


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


def refund_of_return(rma: Return, refund_id: int) -> Refund:
    return Refund.objects.select_related("order", "rma").get(rma=rma, pk=refund_id)


def get_return_for_node(client: ApiClientLike, number: str) -> Return:
    """A node's key sees the returns expected at its node or received there; any other is
    `return_not_found` (404)."""
    rma = unique_or_none(
        _with_details(
            Return.objects.filter(number=number).filter(
                Q(return_node_id=client.node_id) | Q(received_node_id=client.node_id)
            )
        )
    )
    if rma is None or client.node_id is None:
        raise NotFound(f"No return {number} for this node.", code="return_not_found")
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


# --- KPIs (ops/kpis/returns.py puts them on the dashboard) ---------------------------------------


@dataclass(frozen=True)
class ReturnFigures:
    returns: int  # returns opened in the range
    exchanges: int  # of which settled by an exchange
    orders: int  # orders placed in the range
    refunded: dict[str, Decimal]  # refunds succeeded in the range, per currency
    receipt_to_refund_hours: list[float]  # received → first refund, for refunds in the range

    @property
    def return_rate(self) -> float | None:
        return 100.0 * self.returns / self.orders if self.orders else None

    @property
    def exchange_share(self) -> float | None:
        return 100.0 * self.exchanges / self.returns if self.returns else None


def return_figures(
    t0: datetime, t1: datetime, channel_id: int | None = None, orders: int | None = None
) -> ReturnFigures:
    """Returns opened, exchanges, refunds and receipt-to-refund times in [t0, t1), of one
    sales channel's orders or (None) all (portable ORM queries: the PostgreSQL server and the
    SQLite demo alike). `orders`: the orders placed in [t0, t1) (of the channel), when the
    caller has counted them already (the dashboard, from its KPI report); else counted here."""
    of_channel = {} if channel_id is None else {"order__channel_id": channel_id}
    opened = Return.objects.filter(created_at__gte=t0, created_at__lt=t1, **of_channel).exclude(
        source=ReturnSource.RETURNED_TO_SENDER
    )
    counts = opened.aggregate(n=Count("pk"), x=Count("pk", filter=~Q(exchange_kind="")))
    refunded: dict[str, Decimal] = dict(
        Refund.objects.filter(
            status=RefundStatus.SUCCEEDED, refunded_at__gte=t0, refunded_at__lt=t1, **of_channel
        )
        .values_list("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
        .values_list("currency", "total")
    )
    first_refund = (
        Refund.objects.filter(rma=OuterRef("pk"), status=RefundStatus.SUCCEEDED)
        .order_by("refunded_at")
        .values("refunded_at")[:1]
    )
    # Only returns refunded in the range can have their first refund in it: the semi-join on
    # refund_refunded_at_idx keeps this from reading every return ever received.
    refunded_in_range = Refund.objects.filter(
        rma=OuterRef("pk"), status=RefundStatus.SUCCEEDED, refunded_at__gte=t0, refunded_at__lt=t1
    )
    timed = (
        Return.objects.filter(received_at__isnull=False, **of_channel)
        .filter(Exists(refunded_in_range))
        .annotate(first=Subquery(first_refund))
        .filter(first__gte=t0, first__lt=t1)
        .values_list("received_at", "first")
    )
    hours = sorted((first - received).total_seconds() / 3600 for received, first in timed)
    return ReturnFigures(
        returns=counts["n"],
        exchanges=counts["x"],
        orders=orders_placed_between(t0, t1, channel_id) if orders is None else orders,
        refunded=refunded,
        receipt_to_refund_hours=hours,
    )
