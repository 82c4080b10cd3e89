"""Find work that is due but not done: the broker may lose a message, the database never does.

Each kind of work has a grace period long enough that a healthy system has already done it
(on-commit tasks run within seconds), so the sweeper only re-sends what was really lost. The
re-sent tasks are idempotent, so a false positive costs one no-op task.

Orchestration and release wait OMS_SWEEP_GRACE_SECONDS (15 s); the sweep runs every 10 s
(oms/celery.py), so an order whose message was lost (a worker killed, the broker restarted) is
moving again within 25 s. A re-send of the same item is not repeated for RESEND_COOLDOWN
(fulfillment/tasks.py), so a backlog or a node that is down does not multiply messages
(docs/adr/0009-sweeper-grace.md).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentStatus,
    NodeRequest,
    NodeRequestStatus,
    RoutingDecision,
)
from inventory.models import StockLevel
from orders.models import LineStatus, Order, OrderLine, OrderStatus, PaymentStatus
from orders.ownership import OrderOwner
from orders.selectors import active_hold_exists

GRACE = timedelta(seconds=settings.OMS_SWEEP_GRACE_SECONDS)
PAYMENT_GRACE = timedelta(minutes=5)
# An order whose payment failed before anything shipped is cancelled by the system after
# OMS_UNPAID_ORDER_CANCEL_HOURS (0: never); one that shipped is a payment case, not a cancel.
UNPAID_CANCELLABLE = [
    OrderStatus.CREATED,
    OrderStatus.BACKORDERED,
    OrderStatus.ALLOCATED,
    OrderStatus.RELEASED,
]
BATCH = 500  # per kind per sweep (10 s apart): a backlog drains in minutes, not at once


@dataclass
class DueWork:
    orchestrate: list[int] = field(default_factory=list)  # order ids never routed
    release: list[int] = field(default_factory=list)  # pending fulfillment orders
    backorder_products: list[int] = field(default_factory=list)  # waiting lines, stock exists
    expire: list[int] = field(default_factory=list)  # pickups past their deadline
    capture: list[int] = field(default_factory=list)  # shipped orders not yet paid
    void: list[int] = field(default_factory=list)  # cancelled orders still authorized
    node_requests: list[int] = field(default_factory=list)  # node requests never sent
    unpaid: list[int] = field(default_factory=list)  # open orders whose payment failed, long ago

    def total(self) -> int:
        return sum(len(v) for v in vars(self).values())


def find_due_work(*, now: datetime) -> DueWork:
    active_hold = active_hold_exists()
    held_fo = active_hold_exists("order_id")
    return DueWork(
        orchestrate=list(
            Order.objects.filter(
                status=OrderStatus.CREATED, owner=OrderOwner.OMS, created_at__lt=now - GRACE
            )
            .exclude(active_hold)
            .exclude(Exists(RoutingDecision.objects.filter(order=OuterRef("pk"))))
            .order_by("created_at")
            .values_list("id", flat=True)[:BATCH]
        ),
        release=list(
            FulfillmentOrder.objects.filter(
                status=FulfillmentStatus.PENDING, created_at__lt=now - GRACE
            )
            .exclude(held_fo)
            .order_by("created_at")
            .values_list("id", flat=True)[:BATCH]
        ),
        backorder_products=sorted(
            set(
                OrderLine.objects.filter(
                    status=LineStatus.BACKORDERED, order__status=OrderStatus.BACKORDERED
                )
                .filter(
                    Exists(
                        StockLevel.objects.filter(
                            product_id=OuterRef("product_id"), available__gt=0
                        )
                    )
                )
                .values_list("product_id", flat=True)[:BATCH]
            )
        ),
        expire=list(
            FulfillmentOrder.objects.filter(
                status=FulfillmentStatus.READY_FOR_PICKUP, pickup_expires_at__lt=now
            )
            .order_by("pickup_expires_at")
            .values_list("id", flat=True)[:BATCH]
        ),
        capture=list(
            Order.objects.filter(
                status__in=[OrderStatus.SHIPPED, OrderStatus.DELIVERED],
                payment_status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED],
                updated_at__lt=now - PAYMENT_GRACE,
            )
            .order_by("updated_at")
            .values_list("id", flat=True)[:BATCH]
        ),
        void=list(
            Order.objects.filter(
                status=OrderStatus.CANCELLED,
                payment_status=PaymentStatus.AUTHORIZED,
                updated_at__lt=now - PAYMENT_GRACE,
            )
            .order_by("updated_at")
            .values_list("id", flat=True)[:BATCH]
        ),
        node_requests=list(
            NodeRequest.objects.filter(
                status=NodeRequestStatus.OPEN, sent_at__isnull=True, updated_at__lt=now - GRACE
            )
            .order_by("id")
            .values_list("id", flat=True)[:BATCH]
        ),
        unpaid=_unpaid(now),
    )


def _unpaid(now: datetime) -> list[int]:
    hours = settings.OMS_UNPAID_ORDER_CANCEL_HOURS
    if hours <= 0:
        return []
    return list(
        Order.objects.filter(
            status__in=UNPAID_CANCELLABLE,
            payment_status=PaymentStatus.FAILED,
            updated_at__lt=now - timedelta(hours=hours),
        )
        .order_by("updated_at")
        .values_list("id", flat=True)[:BATCH]
    )
