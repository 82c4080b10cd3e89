"""Parcels: what left a node, with which carrier and tracking number, and what happened to it."""

from django.db import models
from django.db.models import Q

from oms.core.models import TimeStampedModel


class ShipmentStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Exception"
    RETURNED = "returned", "Returned to sender"


class Shipment(TimeStampedModel):
    fulfillment = models.ForeignKey(
        "fulfillment.FulfillmentOrder", on_delete=models.CASCADE, related_name="shipments"
    )
    carrier = models.CharField(max_length=50)
    service = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=60)
    # Tracking statuses come from carriers, in any order and more than once: the latest
    # event by time wins (see fulfillment/services/tracking.py), so this is not an FSM.
    status = models.CharField(
        max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.IN_TRANSIT
    )
    label_pdf = models.BinaryField(null=True, blank=True, editable=False)
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["fulfillment_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_carrier_tracking_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    fulfillment_line = models.ForeignKey(
        "fulfillment.FulfillmentOrderLine",
        on_delete=models.PROTECT,
        related_name="shipment_lines",
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_gt_0")
        ]

    def __str__(self) -> str:
        return f"{self.fulfillment_line_id} × {self.quantity}"


class TrackingEvent(models.Model):
    """One carrier scan. Deduplicated on (shipment, occurred_at, status): carriers resend."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="tracking")
    status = models.CharField(max_length=20)
    description = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipment_id", "occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "status"], name="tracking_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} at {self.occurred_at:%Y-%m-%d %H:%M}"
