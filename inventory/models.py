"""Products, fulfillment nodes, the stock each node holds, and the inventory ledger.

Stock counters (StockLevel.on_hand / reserved) change only through inventory/reservations.py
and inventory/services/; every change writes an InventoryMovement in the same transaction, so
the counters always equal the sum of their ledger deltas (inventory/services/ledger.py checks).
"""

from datetime import datetime
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from oms.core.models import TimeStampedModel
from oms.core.money import DECIMAL_PLACES, MAX_DIGITS


def normalize_sku(value: str) -> str:
    """SKUs compare case- and space-insensitively: ' ab-12 ' and 'AB-12' are one product."""
    return "".join(value.split()).upper()


GTIN_LENGTHS = (8, 12, 13, 14)  # GTIN-8 (EAN-8), GTIN-12 (UPC-A), GTIN-13 (EAN-13), GTIN-14


def gtin_check_digit_ok(digits: str) -> bool:
    """The GS1 check digit: from the right, the digits before the check digit weigh 3, 1, 3...;
    the check digit brings the weighted sum to a multiple of 10."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def normalize_upc(value: str | None) -> str | None:
    """The canonical form of a UPC/EAN/GTIN (8, 12, 13 or 14 digits, valid check digit): as a
    GTIN-14 without its leading zeros, but never shorter than 12 digits, so UPC-A 012345678905,
    EAN-13 0012345678905 and GTIN-14 00012345678905 are one code, shown as the UPC-A a person
    reads off the package. None for anything that is not such a code (spaces and dashes between
    digit groups do not count)."""
    if value is None:
        return None
    digits = "".join(str(value).replace("-", "").split())
    if not digits.isdigit() or len(digits) not in GTIN_LENGTHS or not gtin_check_digit_ok(digits):
        return None
    return digits.zfill(14).lstrip("0").zfill(12)


class Product(TimeStampedModel):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    # The code on the package (UPC-A, EAN-13, GTIN-14 or EAN-8), stored in canonical form
    # (normalize_upc). Partners name items by it: an 850's UP/EN/UK ids, a 945's W12, a 944's W07.
    upc = models.CharField(
        "UPC / GTIN",
        max_length=20,  # room for a code typed as printed (spaces); stored as 12 to 14 digits
        blank=True,
        default="",
        help_text="The barcode number on the package: UPC-A (12 digits), EAN-13, GTIN-14 or "
        "EAN-8, with its check digit. Trading partners' EDI names items by it.",
    )
    is_active = models.BooleanField(default=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_empty"),
            models.CheckConstraint(
                condition=Q(upc="") | Q(upc__regex=r"^[0-9]{12,14}$"),
                name="product_upc_canonical",
                violation_error_message="The UPC / GTIN must be 8, 12, 13 or 14 digits.",
            ),
            models.UniqueConstraint(
                fields=["upc"],
                condition=~Q(upc=""),
                name="product_upc_unique",
                violation_error_message="Another product has this UPC / GTIN.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Normalisation, not logic: the unique indexes must see the canonical forms.
        self.sku = normalize_sku(self.sku)
        self.upc = normalize_upc(self.upc) or (self.upc or "").strip()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.upc and normalize_upc(self.upc) is None:
            raise ValidationError(
                {
                    "upc": "Not a UPC / GTIN: 8, 12, 13 or 14 digits ending in a valid check "
                    "digit (e.g. 012345678905)."
                }
            )
        self.upc = normalize_upc(self.upc) or ""


class NodeKind(models.TextChoices):
    DISTRIBUTION_CENTER = "distribution_center", "Distribution center"
    WAREHOUSE = "warehouse", "Warehouse"
    STORE = "store", "Store"
    THIRD_PARTY = "3pl", "Third-party logistics"
    DROPSHIP = "dropship", "Drop-ship vendor"


class NodeConnector(models.TextChoices):
    """How fulfillment orders reach the node (fulfillment/connectors/)."""

    API = "api", "API (the node reads and answers through the oms API / store screens)"
    SIMULATED = "simulated", "Simulated WMS (demo and tests)"
    X12_FILE = "x12_file", "X12 940/945 files"


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
    last_snapshot_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="as_of of the last full count applied; older snapshots are ignored.",
    )
    connector = models.CharField(
        max_length=12,
        choices=NodeConnector.choices,
        default=NodeConnector.API,
        help_text="How fulfillment orders are sent to this node.",
    )
    connector_settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Connector options, e.g. the simulated WMS's behaviour or X12 partner ids.",
    )
    # last_snapshot_at is operational, not configuration: a feed must not add a history row.
    history = HistoricalRecords(excluded_fields=["last_snapshot_at"])

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


class NodeNetworkVersion(models.Model):
    """One row whose `token` changes, in the same transaction, whenever what availability
    reads of the node network changes: a node added or deleted, or its code, kind,
    coordinates, can_ship, can_pickup or is_active updated (database triggers on
    inventory_node, migration inventory 0010, so QuerySet.update() and raw SQL count too; a
    feed's last_snapshot_at does not). A random token, not a counter, so a rolled-back change
    or a flushed table never brings back a value a process has seen with other nodes.

    get_availability reads the token in the statement that reads the stock and keeps the
    nodes per process while it is unchanged (inventory/selectors.py); no row: nothing is kept.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.BigIntegerField()

    def __str__(self) -> str:
        return f"node network {self.token}"


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


class MovementReason(models.TextChoices):
    SNAPSHOT = "snapshot", "Snapshot (full count)"
    ADJUSTMENT = "adjustment", "Adjustment"
    RESERVATION = "reservation", "Reservation"
    RELEASE = "release", "Release"
    SHIPMENT = "shipment", "Shipment"
    RETURN_RESTOCK = "return_restock", "Return restocked"
    TRANSFER = "transfer", "Transfer"
    # A node came up short on a pick or a shipment: the missing units leave on_hand and the
    # reservation together (inventory/services/shortages.py).
    SHORTAGE = "shortage", "Shortage (short pick or shipment)"


class ImmutableMovementError(Exception):
    pass


class InventoryMovementQuerySet(models.QuerySet["InventoryMovement"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableMovementError("the inventory ledger is append-only")

    def delete(self) -> NoReturn:
        raise ImmutableMovementError("the inventory ledger is append-only")


class InventoryMovement(models.Model):
    """One change to one stock level: the ledger. Append-only; a correction is a new row.

    For every (node, product): on_hand == sum(delta_on_hand) and reserved == sum(delta_reserved).
    `reference_type`/`reference_id` say what caused it ("order", "OMS-7ZN4-H38A"; "feed", the
    feed's integrations.InboundMessage pk; "return", ...).
    """

    id = models.BigAutoField(primary_key=True)
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="movements")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    delta_on_hand = models.IntegerField(default=0)
    delta_reserved = models.IntegerField(default=0)
    reason = models.CharField(max_length=20, choices=MovementReason.choices)
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=200, blank=True)
    source_system = models.CharField(max_length=100, blank=True)
    actor_kind = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InventoryMovementQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(delta_on_hand=0, delta_reserved=0), name="movement_not_empty"
            ),
        ]
        indexes = [
            models.Index(fields=["node", "product", "id"], name="movement_node_product_idx"),
            models.Index(fields=["reference_type", "reference_id"], name="movement_reference_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.reason} {self.product_id}@{self.node_id}: "
            f"on_hand {self.delta_on_hand:+d}, reserved {self.delta_reserved:+d}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableMovementError("the inventory ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableMovementError("the inventory ledger is append-only")


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RELEASED = "released", "Released"
    CONSUMED = "consumed", "Consumed (shipped)"


class Reservation(ConcurrentTransitionMixin, TimeStampedModel):
    """Units of one stock level held for one order line. Made, released and consumed only by
    inventory/reservations.py, which moves StockLevel.reserved and the ledger with it."""

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="reservations")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    stock_level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="reservations"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="reservations"
    )
    reference_id = models.CharField(
        max_length=100, blank=True, help_text="What it was reserved for, e.g. the order number."
    )
    quantity = models.PositiveIntegerField()
    consumed_quantity = models.PositiveIntegerField(default=0)
    status = FSMField(
        max_length=10,
        choices=ReservationStatus.choices,
        default=ReservationStatus.ACTIVE,
        protected=True,
    )
    released_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it was released.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(consumed_quantity__lte=F("quantity")),
                name="reservation_consumed_lte_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["order_line", "status"], name="reservation_line_status_idx"),
            models.Index(fields=["stock_level", "status"], name="reservation_stock_status_idx"),
            # Routing's load per node reads the reservations made since its last look.
            models.Index(fields=["created_at"], name="reservation_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}@{self.node_id} ({self.status})"

    @transition(field=status, source=ReservationStatus.ACTIVE, target=ReservationStatus.RELEASED)
    def release(self, *, at: datetime, reason: str) -> None:
        self.released_at = at
        self.reason = reason[:200]

    @transition(field=status, source=ReservationStatus.ACTIVE, target=ReservationStatus.CONSUMED)
    def consume(self, *, at: datetime, quantity: int) -> None:
        self.consumed_at = at
        self.consumed_quantity = quantity


# Inventory feeds are recorded in the inbound message log (integrations.InboundMessage, kinds
# `inventory.snapshot` / `inventory.adjustment`): inventory/services/feed_messages.py. These are
# the feed's kind and outcome inside its result.
class FeedKind(models.TextChoices):
    SNAPSHOT = "snapshot", "Snapshot (full count)"
    ADJUSTMENT = "adjustment", "Adjustment (deltas)"


class FeedStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    IGNORED_STALE = "ignored_stale", "Ignored: not newer than the last snapshot"
    DUPLICATE = "duplicate", "Duplicate"


class OversellStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Oversell(FSMModelMixin, TimeStampedModel):
    """A node counted fewer units than are reserved against it: `shortfall` reserved units
    have no stock behind them and must be rerouted or cancelled. One open record per
    (node, product); a later count refreshes its figures."""

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="oversells")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="oversells")
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="oversells")
    on_hand = models.IntegerField()
    reserved = models.IntegerField()
    shortfall = models.PositiveIntegerField()
    status = FSMField(
        max_length=10, choices=OversellStatus.choices, default=OversellStatus.OPEN, protected=True
    )
    detected_at = models.DateTimeField()
    feed_message = models.ForeignKey(
        "integrations.InboundMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The feed that revealed (or last refreshed) it, in the inbound message log.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "product"],
                condition=Q(status="open"),
                name="oversell_one_open_per_stock",
            ),
            models.CheckConstraint(condition=Q(shortfall__gt=0), name="oversell_shortfall_gt_0"),
        ]

    def __str__(self) -> str:
        return f"Oversell of {self.shortfall} ({self.product_id}@{self.node_id}, {self.status})"

    @transition(field=status, source=OversellStatus.OPEN, target=OversellStatus.RESOLVED)
    def resolve(self, *, at: datetime, by: str, note: str) -> None:
        self.resolved_at = at
        self.resolved_by = by
        self.resolution_note = note[:500]


class InventoryReconciliation(TimeStampedModel):
    """One comparison of oms's on-hand counts with what nodes report (a node snapshot file or
    feed read through a migration mapping): per node×SKU, oms minus the node's count. A pair
    is accurate when the difference is within `tolerance_units`; accuracy is the share of
    accurate pairs (the dashboard's inventory accuracy KPI). Written by
    inventory/services/reconciliation.py; never changes stock."""

    source = models.CharField(max_length=100, help_text="Where the node counts came from.")
    input_name = models.CharField(max_length=300, blank=True)
    reconciled_at = models.DateTimeField()
    tolerance_units = models.PositiveIntegerField(default=0)
    case_units = models.PositiveIntegerField(
        default=0, help_text="A pair off by more units than this is over the case threshold."
    )
    case_value = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        default=0,
        help_text="A pair off by more value than this is over the case threshold.",
    )
    pairs = models.PositiveIntegerField(default=0, help_text="Node×SKU pairs compared.")
    within_tolerance = models.PositiveIntegerField(default=0)
    variance_pairs = models.PositiveIntegerField(default=0, help_text="Pairs that differ.")
    over_threshold = models.PositiveIntegerField(default=0)
    units_over = models.PositiveIntegerField(default=0, help_text="oms counts more than the node.")
    units_under = models.PositiveIntegerField(default=0, help_text="oms counts fewer.")
    value = models.JSONField(
        default=dict, blank=True, help_text="Absolute variance value per currency."
    )
    report = models.JSONField(default=dict, blank=True, help_text="Read errors and notes.")

    class Meta:
        ordering = ["-reconciled_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} {self.source} ({self.reconciled_at:%Y-%m-%d %H:%M})"

    @property
    def accuracy(self) -> float | None:
        return 100.0 * self.within_tolerance / self.pairs if self.pairs else None


class NodeReconciliation(models.Model):
    """One node's figures in a reconciliation (the variance-by-node chart reads these)."""

    reconciliation = models.ForeignKey(
        InventoryReconciliation, on_delete=models.CASCADE, related_name="nodes"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="reconciliations")
    reconciled_at = models.DateTimeField()
    pairs = models.PositiveIntegerField(default=0)
    within_tolerance = models.PositiveIntegerField(default=0)
    variance_pairs = models.PositiveIntegerField(default=0)
    over_threshold = models.PositiveIntegerField(default=0)
    abs_units = models.PositiveIntegerField(default=0)
    value = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-reconciled_at", "node_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "node"], name="node_reconciliation_unique"
            )
        ]
        indexes = [models.Index(fields=["node", "-reconciled_at"], name="node_recon_latest_idx")]

    def __str__(self) -> str:
        return f"{self.node_id} in reconciliation {self.reconciliation_id}"


class InventoryVariance(models.Model):
    """A node×SKU pair whose oms count differs from the node's (pairs that agree are counted
    in the reconciliation, not stored)."""

    reconciliation = models.ForeignKey(
        InventoryReconciliation, on_delete=models.CASCADE, related_name="variances"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    oms_on_hand = models.IntegerField()
    node_on_hand = models.IntegerField()
    variance = models.IntegerField(help_text="oms minus the node.")
    unit_value = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    currency = models.CharField(max_length=3, blank=True)
    value = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text="|variance| × unit value.",
    )
    within_tolerance = models.BooleanField(default=False)
    over_threshold = models.BooleanField(default=False)

    class Meta:
        ordering = ["reconciliation_id", "node_id", "product_id"]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.node_id}: {self.variance:+d}"
