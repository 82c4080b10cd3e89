"""The cutover dashboard's figures: the legacy baseline (orders imported from the legacy
system's history) next to oms's own orders, per channel, and the channel's parity checks.

Computed in Python over one channel's orders with their fulfillment orders prefetched (three
queries per group): a cutover dashboard looks at one channel over weeks, thousands of orders,
not the whole history; the KPI dashboard (ops/kpis) is where the all-channel figures live.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from fulfillment.models import FulfillmentOrder
from migration.models import HandoffStatus, ImportedRecord, LegacyHandoff
from orders.models import Order, OrderStatus
from orders.ownership import OrderOwner

SHIPPED = ("shipped", "delivered", "picked_up")


@dataclass(frozen=True)
class Kpis:
    orders: int
    cancellation_rate: float | None  # percent
    split_rate: float | None  # of orders with a fulfillment order, those with more than one
    order_to_ship_hours: float | None  # mean, placement to first shipment
    on_time_ship_rate: float | None  # first shipment within 48 h of placement


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def kpis_of(orders: QuerySet[Order]) -> Kpis:
    rows = list(
        orders.only("id", "status", "placed_at").prefetch_related(
            Prefetch(
                "fulfillment_orders",
                queryset=FulfillmentOrder.objects.exclude(status="cancelled").only(
                    "id", "order_id", "status", "shipped_at"
                ),
                to_attr="live_fos",
            )
        )
    )
    cancelled = sum(o.status == OrderStatus.CANCELLED for o in rows)
    with_fo = [o for o in rows if o.live_fos]
    split = sum(len(o.live_fos) > 1 for o in with_fo)
    waits = []
    for order in rows:
        shipped = [fo.shipped_at for fo in order.live_fos if fo.shipped_at is not None]
        if shipped:
            waits.append((min(shipped) - order.placed_at).total_seconds() / 3600)
    return Kpis(
        orders=len(rows),
        cancellation_rate=_pct(cancelled, len(rows)),
        split_rate=_pct(split, len(with_fo)),
        order_to_ship_hours=round(sum(waits) / len(waits), 1) if waits else None,
        on_time_ship_rate=_pct(sum(w <= 48 for w in waits), len(waits)),
    )


def legacy_baseline(channel_id: int, *, until: datetime | None = None) -> Kpis:
    """The channel's orders imported from the legacy system's history."""
    numbers = ImportedRecord.objects.filter(kind="orders", target_type="order").values("target_id")
    orders = Order.objects.filter(channel_id=channel_id, number__in=numbers)
    if until is not None:
        orders = orders.filter(placed_at__lt=until)
    return kpis_of(orders)


def oms_kpis(channel_id: int, *, since: datetime | None = None) -> Kpis:
    """The channel's orders oms captured and owned (not imported, not mirrored)."""
    numbers = ImportedRecord.objects.filter(kind="orders", target_type="order").values("target_id")
    orders = Order.objects.filter(
        channel_id=channel_id, owner=OrderOwner.OMS, is_legacy_mirror=False
    ).exclude(number__in=numbers)
    if since is not None:
        orders = orders.filter(placed_at__gte=since)
    return kpis_of(orders)


@dataclass(frozen=True)
class Parity:
    owners: dict[str, int]  # orders per owner (oms, legacy, shadow)
    handed_back: int
    handoffs: dict[str, int]  # pending, sent, dead
    open_oms_orders: int


def parity(channel_id: int) -> Parity:
    owners = dict.fromkeys(OrderOwner.values, 0)
    for owner, count in _counts(Order.objects.filter(channel_id=channel_id), "owner"):
        owners[owner] = count
    handoffs = dict.fromkeys(HandoffStatus.values, 0)
    for status, count in _counts(
        LegacyHandoff.objects.filter(order__channel_id=channel_id), "status"
    ):
        handoffs[status] = count
    return Parity(
        owners=owners,
        handed_back=Order.objects.filter(
            channel_id=channel_id, status=OrderStatus.HANDED_BACK
        ).count(),
        handoffs=handoffs,
        open_oms_orders=Order.objects.filter(
            channel_id=channel_id,
            owner=OrderOwner.OMS,
            status__in=["created", "backordered", "allocated", "released", "partially_shipped"],
        ).count(),
    )


def _counts(queryset: QuerySet[Any], field: str) -> list[tuple[str, int]]:
    return list(queryset.values_list(field).annotate(n=Count("id")).order_by(field))
