"""The cutover dashboard's figures: the legacy system's orders (imported history and mirrored
orders) next to oms's own orders, per channel, before and after the switch date, and the
channel's parity checks (owners, handoffs, webhook and connector error rates, inventory
variance).

Computed in Python over one channel's orders with their fulfillment orders prefetched (three
queries per group): a cutover dashboard looks at one channel over weeks, thousands of orders,
not the whole history; the KPI dashboard (ops/kpis) is where the all-channel figures live.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from fulfillment.models import FulfillmentOrder, NodeRequest
from integrations.models import (
    DeliveryStatus,
    InboundMessage,
    InboundStatus,
    WebhookAttempt,
    WebhookDelivery,
)
from inventory.models import InventoryReconciliation
from migration.models import (
    CutoverMode,
    CutoverPlan,
    HandoffStatus,
    ImportedRecord,
    LegacyDecision,
    LegacyHandoff,
)
from oms.events.models import Event
from orders.events import ORDER_BACKORDERED
from orders.models import Order, OrderStatus, stream_for_order
from orders.ownership import OrderOwner

SHIPPED = ("shipped", "delivered", "picked_up")


@dataclass(frozen=True)
class Kpis:
    orders: int
    cancellation_rate: float | None  # percent
    split_rate: float | None  # of orders with a fulfillment order, those with more than one
    order_to_ship_hours: float | None  # mean, placement to first shipment
    on_time_ship_rate: float | None  # first shipment within 48 h of placement
    backorder_rate: float | None = None  # of the orders whose placement is known, those short


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def kpis_of(orders: QuerySet[Order]) -> Kpis:
    """Shipments from oms's fulfillment orders; for a mirrored order (no fulfillment order in
    oms) the splits and backorders of its legacy decision. Backordered: an oms order that was
    ever short (`order.backordered`), a mirrored one whose legacy decision placed fewer units
    than ordered; imported history carries neither, so it stays out of that rate."""
    rows = list(
        orders.only("id", "number", "status", "placed_at", "owner", "is_legacy_mirror")
        .annotate(units=Sum("lines__quantity") - Sum("lines__cancelled_quantity"))
        .prefetch_related(
            Prefetch(
                "fulfillment_orders",
                queryset=FulfillmentOrder.objects.exclude(status="cancelled").only(
                    "id", "order_id", "status", "shipped_at"
                ),
                to_attr="live_fos",
            )
        )
    )
    decisions: dict[int, list[dict[str, Any]]] = dict(
        LegacyDecision.objects.filter(
            order_id__in=[o.pk for o in rows if o.is_legacy_mirror]
        ).values_list("order_id", "allocations")
    )
    backordered_streams = set(
        Event.objects.filter(
            type=ORDER_BACKORDERED, stream__in=[o.stream for o in rows if not o.is_legacy_mirror]
        ).values_list("stream", flat=True)
    )
    cancelled = sum(o.status == OrderStatus.CANCELLED for o in rows)
    shipments: list[int] = []
    short: list[bool] = []
    waits = []
    for order in rows:
        allocations = decisions.get(order.pk)
        if order.live_fos:
            shipments.append(len(order.live_fos))
        elif allocations:
            shipments.append(len({a["node"] for a in allocations}))
        if order.is_legacy_mirror:
            if allocations is not None and order.status != OrderStatus.CANCELLED:
                short.append(sum(int(a["quantity"]) for a in allocations) < (order.units or 0))
        elif order.owner == OrderOwner.OMS and not order.is_legacy_mirror:
            short.append(order.stream in backordered_streams)
        shipped = [fo.shipped_at for fo in order.live_fos if fo.shipped_at is not None]
        if shipped:
            waits.append((min(shipped) - order.placed_at).total_seconds() / 3600)
    return Kpis(
        orders=len(rows),
        cancellation_rate=_pct(cancelled, len(rows)),
        split_rate=_pct(sum(n > 1 for n in shipments), len(shipments)),
        order_to_ship_hours=round(sum(waits) / len(waits), 1) if waits else None,
        on_time_ship_rate=_pct(sum(w <= 48 for w in waits), len(waits)),
        backorder_rate=_pct(sum(short), len(short)),
    )


def legacy_baseline(channel_id: int, *, until: datetime | None = None) -> Kpis:
    """The channel's orders imported from the legacy system's history."""
    orders = Order.objects.filter(channel_id=channel_id, number__in=_imported_numbers())
    if until is not None:
        orders = orders.filter(placed_at__lt=until)
    return kpis_of(orders)


def oms_kpis(channel_id: int, *, since: datetime | None = None) -> Kpis:
    """The channel's orders oms captured and owned (not imported, not mirrored)."""
    orders = oms_orders(channel_id)
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


# -- before and after the switch --------------------------------------------------------------


def switch_date(channel_id: int) -> datetime | None:
    """When oms first took orders of the channel: the approval of its first canary or oms
    plan. None while the channel has only been legacy or shadow."""
    return (
        CutoverPlan.objects.filter(
            channel_id=channel_id,
            mode__in=[CutoverMode.CANARY, CutoverMode.OMS],
            approved_at__isnull=False,
        )
        .order_by("approved_at")
        .values_list("approved_at", flat=True)
        .first()
    )


def _imported_numbers() -> Any:  # a values("target_id") subquery
    return ImportedRecord.objects.filter(kind="orders", target_type="order").values("target_id")


def legacy_orders(channel_id: int) -> QuerySet[Order]:
    """What the legacy system decided: the imported history and the mirrored orders."""
    return Order.objects.filter(channel_id=channel_id).filter(
        Q(number__in=_imported_numbers()) | Q(is_legacy_mirror=True)
    )


def oms_orders(channel_id: int) -> QuerySet[Order]:
    """What oms decided: the orders it captured and owns (not imported, not mirrored)."""
    return Order.objects.filter(
        channel_id=channel_id, owner=OrderOwner.OMS, is_legacy_mirror=False
    ).exclude(number__in=_imported_numbers())


@dataclass(frozen=True)
class KpiPeriods:
    switch_at: datetime | None
    legacy_before: Kpis
    legacy_after: Kpis | None  # None: no switch yet
    oms_before: Kpis
    oms_after: Kpis | None


def kpi_periods(channel_id: int) -> KpiPeriods:
    switch = switch_date(channel_id)
    legacy, oms = legacy_orders(channel_id), oms_orders(channel_id)
    if switch is None:
        return KpiPeriods(None, kpis_of(legacy), None, kpis_of(oms), None)
    return KpiPeriods(
        switch_at=switch,
        legacy_before=kpis_of(legacy.filter(placed_at__lt=switch)),
        legacy_after=kpis_of(legacy.filter(placed_at__gte=switch)),
        oms_before=kpis_of(oms.filter(placed_at__lt=switch)),
        oms_after=kpis_of(oms.filter(placed_at__gte=switch)),
    )


# -- error rates and inventory variance -------------------------------------------------------


@dataclass(frozen=True)
class ErrorRate:
    calls: int
    errors: int

    @property
    def rate(self) -> float | None:
        return _pct(self.errors, self.calls)


def _order_streams(channel_id: int) -> list[str]:
    numbers = Order.objects.filter(channel_id=channel_id).values_list("number", flat=True)
    return [stream_for_order(n) for n in numbers]


def webhook_error_rate(channel_id: int) -> ErrorRate:
    """oms's webhook attempts for the events of the channel's orders: an attempt that got no
    2xx answer (a status code of 300 or more, or an error such as a timeout) is an error."""
    streams = _order_streams(channel_id)
    agg = WebhookAttempt.objects.filter(delivery__event__stream__in=streams).aggregate(
        calls=Count("id"),
        errors=Count("id", filter=Q(status_code__gte=300) | Q(status_code__isnull=True)),
    )
    return ErrorRate(agg["calls"], agg["errors"])


def webhook_dead(channel_id: int) -> int:
    streams = _order_streams(channel_id)
    return WebhookDelivery.objects.filter(
        event__stream__in=streams, status=DeliveryStatus.DEAD
    ).count()


def connector_error_rate(channel_id: int) -> ErrorRate:
    """oms's calls to nodes for the channel's orders and the nodes' messages about them:
    releases (a fulfillment order released, or refused with an error), node requests (sent, or
    refused with an error) and inbound node messages about its fulfillment orders (failed or
    dead ones are errors)."""
    fos = FulfillmentOrder.objects.filter(order__channel_id=channel_id)
    releases = fos.aggregate(
        calls=Count("id", filter=Q(released_at__isnull=False) | ~Q(last_release_error="")),
        errors=Count("id", filter=~Q(last_release_error="")),
    )
    requests = NodeRequest.objects.filter(fulfillment__order__channel_id=channel_id).aggregate(
        calls=Count("id", filter=Q(sent_at__isnull=False) | ~Q(last_error="")),
        errors=Count("id", filter=~Q(last_error="")),
    )
    messages = InboundMessage.objects.filter(
        source__startswith="node:", subject__in=fos.values("number")
    ).aggregate(
        calls=Count("id"),
        errors=Count("id", filter=Q(status__in=[InboundStatus.FAILED, InboundStatus.DEAD])),
    )
    return ErrorRate(
        releases["calls"] + requests["calls"] + messages["calls"],
        releases["errors"] + requests["errors"] + messages["errors"],
    )


def latest_inventory_variance() -> InventoryReconciliation | None:
    """The latest reconciliation of oms's counts with the nodes' (migration reconciliation
    sources, inventory/services/reconciliation.py): every channel shares the stock."""
    return InventoryReconciliation.objects.order_by("-reconciled_at", "-id").first()
