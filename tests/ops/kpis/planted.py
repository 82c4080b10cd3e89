"""Planted history for the KPI tests and the dashboard e2e test: four orders over two days
(yesterday D1 and today D2, UTC) in two channels, with known figures.

    web  A  placed D1 10:00, fulfillment A/1 shipped D1 14:00 (ship-by D1 18:00: on time)
    web  B  placed D1 12:00, B/1 shipped D2 00:00 (ship-by D1 20:00: late),
                            B/2 shipped D2 06:00 (ship-by D2 12:00: on time)  → split, 12 h
    web  C  placed D2 08:00, cancelled (cancel_order, the API's and admin's service)
    pos  D  placed D2 09:00, backordered, D/1 shipped D2 19:00 (ship-by D2 18:00: late), 10 h
    one `order.manual_touch` on A (recorded now, so on D2)

Orders are captured with capture_order(); orchestration is not scheduled (the caller patches
it in transactional tests), and fulfillment orders are planted rows: the KPIs read shipped_at
and ship_by, which the fulfillment services set the same way.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.order_cancellation import cancel_order
from inventory.models import Node, StockLevel
from oms.core.actors import Actor
from oms.events.services import record_event
from orders.models import Order
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order


@dataclass
class Planted:
    d1: date
    d2: date
    orders: dict[str, Order]
    fresh_node: Node
    stale_node: Node


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _ship(order: Order, node: Node, n: int, shipped: datetime, ship_by: datetime) -> None:
    FulfillmentOrder.objects.create(
        number=f"{order.number}/{n}",
        order=order,
        node=node,
        status="shipped",
        delivery_method="ship",
        service_level="standard",
        ship_by=ship_by,
        shipped_at=shipped,
    )


def plant() -> Planted:
    d2 = timezone.now().astimezone(UTC).date()
    d1 = d2 - timedelta(days=1)
    web, pos = ChannelFactory(code="web"), ChannelFactory(code="pos")
    sku = ProductFactory(sku="KPI-1").sku
    fresh, stale = NodeFactory(code="dc-fresh"), NodeFactory(code="dc-stale")
    NodeFactory(code="dc-silent")  # never reported
    for node, age in ((fresh, timedelta(hours=2)), (stale, timedelta(hours=30))):
        level = stocked(node, ProductFactory(sku=f"KPI-{node.code}"))
        StockLevel.objects.filter(pk=level.pk).update(last_reported_at=timezone.now() - age)

    def order(channel, ext: str, placed: datetime) -> Order:
        return captured_order(channel, external_id=ext, skus=[sku], placed_at=placed)

    a = order(web, "A", at(d1, 10))
    b = order(web, "B", at(d1, 12))
    c = order(web, "C", at(d2, 8))
    d = order(pos, "D", at(d2, 9))
    _ship(a, fresh, 1, at(d1, 14), at(d1, 18))
    _ship(b, fresh, 1, at(d2, 0), at(d1, 20))
    _ship(b, stale, 2, at(d2, 6), at(d2, 12))
    _ship(d, fresh, 1, at(d2, 19), at(d2, 18))
    actor = Actor.system("kpi-test")
    # Through the service the API and the admin call: the order really becomes cancelled.
    cancel_order(order_id=c.pk, actor=actor, reason="customer changed their mind")
    with transaction.atomic():
        record_event(
            stream=d.stream,
            type="order.backordered",
            actor=actor,
            payload={"decision_id": 0, "lines": [{"line_number": 1, "sku": sku, "quantity": 1}]},
        )
        record_event(
            stream=a.stream,
            type="order.manual_touch",
            actor=actor,
            payload={"remedy": "retry_integration", "user": "kpi-test"},
        )
    return Planted(d1, d2, {"A": a, "B": b, "C": c, "D": d}, fresh, stale)
