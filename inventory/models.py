"""Products, fulfillment nodes and the stock each node holds."""

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from oms.core.models import TimeStampedModel


def normalize_sku(value: str) -> str:
    """SKUs compare case- and space-insensitively: ' ab-12 ' and 'AB-12' are one product."""
    return "".join(value.split()).upper()


class Product(TimeStampedModel):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Normalisation, not logic: the unique index must see the canonical form.
        self.sku = normalize_sku(self.sku)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class NodeKind(models.TextChoices):
    DISTRIBUTION_CENTER = "distribution_center", "Distribution center"
    WAREHOUSE = "warehouse", "Warehouse"
    STORE = "store", "Store"
    THIRD_PARTY = "3pl", "Third-party logistics"
    DROPSHIP = "dropship", "Drop-ship vendor"


class NodeQuerySet(models.QuerySet["Node"]):
    def active(self) -> "NodeQuerySet":
        return self.filter(is_active=True)

    def pickup_points(self) -> "NodeQuerySet":
        return self.filter(is_active=True, can_pickup=True)


class Node(TimeStampedModel):
    """A place that holds stock and fulfils orders: DC, warehouse, store, 3PL or drop-shipper."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=NodeKind.choices)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True, help_text="State or province code.")
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    timezone = models.CharField(max_length=64, default="America/New_York")
    # Capabilities: what the node may do.
    can_ship = models.BooleanField(default=True)
    can_pickup = models.BooleanField(default=False)
    can_curbside = models.BooleanField(default=False)
    can_ship_from_store = models.BooleanField(default=False)
    can_accept_returns = models.BooleanField(default=False)
    daily_capacity = models.PositiveIntegerField(
        default=1000, help_text="Fulfillment orders the node can take per day."
    )
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Lower is preferred when routing scores tie."
    )
    fulfillment_region = models.CharField(
        max_length=50, blank=True, help_text="Routing region, e.g. 'east' or 'west'."
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = NodeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="node_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def capabilities(self) -> list[str]:
        flags = {
            "ship": self.can_ship,
            "pickup": self.can_pickup,
            "curbside": self.can_curbside,
            "ship_from_store": self.can_ship_from_store,
            "returns": self.can_accept_returns,
        }
        return [name for name, enabled in flags.items() if enabled]


class StockLevel(TimeStampedModel):
    """How much of one product one node holds.

    available = on_hand - reserved - safety_stock, computed by the database so a reservation can
    be one conditional UPDATE (`WHERE available >= q`). on_hand may fall below reserved when a
    node's count says so (the oversell case); available is then negative and nothing more can
    be reserved, which is exactly the point.
    """

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="stock_levels")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    safety_stock = models.IntegerField(default=0)
    available = models.GeneratedField(
        expression=F("on_hand") - F("reserved") - F("safety_stock"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    last_reported_at = models.DateTimeField(
        null=True, blank=True, help_text="When the node last reported this count."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "product"], name="stock_node_product_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stock_safety_stock_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["product", "node"], name="stock_product_node_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.node_id}: {self.on_hand} on hand"
