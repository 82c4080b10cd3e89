"""A fulfillment order is the work one node does for one order: its lines, each tied to the
reservation that holds the stock. Its status is a protected FSM; transitions only set fields.

    pending → released → accepted → picking → packed → shipped → delivered
                  ↘ rejected (by the node)    packed → ready_for_pickup → picked_up | expired
    any open state → cancelled
"""

from datetime import datetime
from typing import cast

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from oms.core.models import TimeStampedModel


class FulfillmentStatus(models.TextChoices):
    PENDING = "pending", "Pending release"
    RELEASED = "released", "Released to node"
    ACCEPTED = "accepted", "Accepted"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    PICKED_UP = "picked_up", "Picked up"
    REJECTED = "rejected", "Rejected by node"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired (not collected)"


S = FulfillmentStatus
# States in which the node still holds stock for the order.
OPEN_STATUSES = [S.PENDING, S.RELEASED, S.ACCEPTED, S.PICKING, S.PACKED, S.READY_FOR_PICKUP]
AT_NODE_STATUSES = [S.RELEASED, S.ACCEPTED, S.PICKING, S.PACKED, S.READY_FOR_PICKUP]
FINISHED_STATUSES = [S.SHIPPED, S.DELIVERED, S.PICKED_UP]


class FulfillmentOrderQuerySet(models.QuerySet["FulfillmentOrder"]):
    def open(self) -> "FulfillmentOrderQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def for_nodes(self, node_ids: list[int]) -> "FulfillmentOrderQuerySet":
        return self.filter(node_id__in=node_ids)


class FulfillmentOrder(FSMModelMixin, TimeStampedModel):
    number = models.CharField(max_length=24, unique=True, help_text="Order number + /1, /2…")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="fulfillment_orders"
    )
    node = models.ForeignKey(
        "inventory.Node", on_delete=models.PROTECT, related_name="fulfillment_orders"
    )
    status = FSMField(
        max_length=20, choices=FulfillmentStatus.choices, default=S.PENDING, protected=True
    )
    delivery_method = models.CharField(max_length=10)
    service_level = models.CharField(max_length=10)
    ship_by = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    picking_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Rejected/cancelled/expired.")
    close_reason = models.CharField(max_length=300, blank=True)
    # In clear only while the parcel waits (the ready notice is built from it at each webhook
    # send); cleared when it is handed over or expires. In no event, message or log
    # (docs/security.md, "Pickup codes").
    pickup_code = models.CharField(max_length=8, blank=True)
    pickup_expires_at = models.DateTimeField(null=True, blank=True)
    # Wrong pickup codes typed for this hand-over; at OMS_PICKUP_CODE_MAX_ATTEMPTS it locks
    # (pickup_locked_at) until a store lead or ops unlocks it, which resets the count.
    pickup_failed_attempts = models.PositiveSmallIntegerField(default=0)
    pickup_locked_at = models.DateTimeField(null=True, blank=True)
    node_reference = models.CharField(max_length=100, blank=True, help_text="The node's own id.")
    release_attempts = models.PositiveSmallIntegerField(default=0)
    last_release_error = models.CharField(max_length=500, blank=True)

    objects = FulfillmentOrderQuerySet.as_manager()

    class Meta:
        ordering = ["order_id", "id"]
        indexes = [
            models.Index(fields=["node", "status"], name="fo_node_status_idx"),
            models.Index(fields=["status", "updated_at"], name="fo_status_updated_idx"),
            # Shipping KPIs (ops/kpis/selectors.py, bench/kpi_bench.py), index-only: the
            # fulfillment orders shipped in a range, and whether an order shipped before it.
            # Key columns rather than INCLUDE, which SQLite (the demo) does not have.
            models.Index(
                fields=["shipped_at", "order", "ship_by"],
                name="fo_shipped_cover_idx",
                condition=Q(shipped_at__isnull=False),
            ),
            models.Index(
                fields=["order", "shipped_at"],
                name="fo_order_shipped_idx",
                condition=Q(shipped_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="ready_for_pickup") | ~Q(pickup_code=""),
                name="fo_ready_has_pickup_code",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_pickup(self) -> bool:
        return self.delivery_method in ("pickup", "curbside")

    # --- transitions: fields only --------------------------------------------------------
    @transition(field=status, source=S.PENDING, target=S.RELEASED)
    def release(self, *, at: datetime, node_reference: str = "") -> None:
        self.released_at = at
        self.node_reference = node_reference or self.node_reference
        self.last_release_error = ""

    @transition(field=status, source=S.RELEASED, target=S.ACCEPTED)
    def accept(self, *, at: datetime) -> None:
        self.accepted_at = at

    @transition(field=status, source=[S.RELEASED, S.ACCEPTED], target=S.PICKING)
    def start_picking(self, *, at: datetime) -> None:
        self.accepted_at = self.accepted_at or at
        self.picking_at = at

    @transition(field=status, source=[S.RELEASED, S.ACCEPTED, S.PICKING], target=S.PACKED)
    def pack(self, *, at: datetime) -> None:
        self.accepted_at = self.accepted_at or at
        self.packed_at = at

    @transition(
        field=status,
        source=S.PACKED,
        target=S.READY_FOR_PICKUP,
        conditions=[lambda fo: cast(FulfillmentOrder, fo).is_pickup],  # django-fsm: a Model
    )
    def mark_ready(self, *, at: datetime, code: str, expires_at: datetime) -> None:
        self.ready_at = at
        self.pickup_code = code
        self.pickup_expires_at = expires_at

    @transition(field=status, source=S.READY_FOR_PICKUP, target=S.PICKED_UP)
    def hand_over(self, *, at: datetime) -> None:
        self.picked_up_at = at
        self.pickup_code = ""  # used: no longer needed in clear

    @transition(field=status, source=S.READY_FOR_PICKUP, target=S.EXPIRED)
    def expire(self, *, at: datetime) -> None:
        self.closed_at = at
        self.close_reason = "not collected in time"
        self.pickup_code = ""

    @transition(
        field=status,
        source=[S.RELEASED, S.ACCEPTED, S.PICKING, S.PACKED],
        target=S.SHIPPED,
        conditions=[lambda fo: not cast(FulfillmentOrder, fo).is_pickup],  # same
    )
    def ship(self, *, at: datetime) -> None:
        self.accepted_at = self.accepted_at or at
        self.shipped_at = at

    @transition(field=status, source=S.SHIPPED, target=S.DELIVERED)
    def deliver(self, *, at: datetime) -> None:
        self.delivered_at = at

    @transition(field=status, source=[S.RELEASED, S.ACCEPTED, S.PICKING], target=S.REJECTED)
    def reject(self, *, at: datetime, reason: str) -> None:
        self.closed_at = at
        self.close_reason = reason[:300]

    @transition(field=status, source=OPEN_STATUSES, target=S.CANCELLED)
    def cancel(self, *, at: datetime, reason: str) -> None:
        self.closed_at = at
        self.close_reason = reason[:300]


class FulfillmentOrderLine(TimeStampedModel):
    fulfillment = models.ForeignKey(
        FulfillmentOrder, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="fulfillment_lines"
    )
    reservation = models.OneToOneField(
        "inventory.Reservation", on_delete=models.PROTECT, related_name="fulfillment_line"
    )
    quantity = models.PositiveIntegerField()
    picked_quantity = models.PositiveIntegerField(null=True, blank=True)
    shipped_quantity = models.PositiveIntegerField(default=0)
    short_quantity = models.PositiveIntegerField(default=0)
    short_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["fulfillment_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=models.F("quantity"))
                & Q(short_quantity__lte=models.F("quantity")),
                name="fo_line_quantities_within_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fulfillment_id}: {self.order_line_id} × {self.quantity}"
