"""Exception cases (the ops console's work items), the queues (teams) they land in, and the
versioned exception rule sets that route them (draft → pending approval → active → retired,
maker-checker approved like routing rule sets).

Transitions only assign fields; ops/services decide when they happen and record events.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from oms.core.models import TimeStampedModel, VersionedRuleSet
from oms.core.money import DECIMAL_PLACES, MAX_DIGITS

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the AUTH_USER_MODEL `assignee` points to


class Queue(TimeStampedModel):
    """A team that works exception cases (e.g. "ops", "payments", "warehouse")."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ExceptionKind(models.TextChoices):
    OVERSELL = "oversell", "Oversell"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    FRAUD_HOLD = "fraud_hold", "Fraud hold"
    ADDRESS_INVALID = "address_invalid", "Address invalid"
    NODE_REJECTED = "node_rejected", "Node rejected"
    SHORT_PICK = "short_pick", "Short pick"
    BACKORDER_AGED = "backorder_aged", "Backorder aged"
    LATE_SHIPMENT = "late_shipment", "Late shipment"
    LOST_PARCEL = "lost_parcel", "Lost parcel"
    DAMAGED = "damaged", "Damaged"
    INTEGRATION_FAILED = "integration_failed", "Integration failed"
    STUCK_ORDER = "stuck_order", "Stuck order"
    CYCLE_COUNT = "cycle_count", "Cycle count"
    PICKUP_LOCKED = "pickup_locked", "Pickup locked"
    CONFIG_INVALID = "config_invalid", "Configuration invalid"
    INVENTORY_VARIANCE = "inventory_variance", "Inventory variance"
    CUTOVER_NO_GO = "cutover_no_go", "Cutover no-go"
    ORDER_STATUS_MISMATCH = "order_status_mismatch", "Order status differs from legacy"


class SubjectType(models.TextChoices):
    ORDER = "order", "Order"
    FULFILLMENT = "fulfillment", "Fulfillment order"
    MESSAGE = "message", "Inbound message"
    NODE = "node", "Node"
    RULE_SET = "rule_set", "Exception rule set"
    CHANNEL = "channel", "Channel"


class Priority(models.TextChoices):
    P1 = "p1", "P1 (urgent)"
    P2 = "p2", "P2 (high)"
    P3 = "p3", "P3 (normal)"
    P4 = "p4", "P4 (low)"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)


class ExceptionCaseQuerySet(models.QuerySet["ExceptionCase"]):
    def unresolved(self) -> "ExceptionCaseQuerySet":
        return self.filter(status__in=OPEN_CASE_STATUSES)

    def sla_breached(self, now: object) -> "ExceptionCaseQuerySet":
        return self.unresolved().filter(sla_due_at__lt=now)


class ExceptionCase(FSMModelMixin, TimeStampedModel):
    kind = models.CharField(max_length=24, choices=ExceptionKind.choices)
    subject_type = models.CharField(max_length=12, choices=SubjectType.choices)
    subject_id = models.BigIntegerField()
    subject_label = models.CharField(max_length=120, help_text="e.g. the order number")
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exception_cases",
    )
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict)
    status = FSMField(
        max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN, protected=True
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="cases")
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    sla_due_at = models.DateTimeField()
    rule_label = models.CharField(max_length=200, blank=True, help_text="Which rule routed it.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exception_cases",
    )
    raised_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=40, blank=True, help_text="The remedy applied.")
    resolution_note = models.TextField(blank=True)

    objects = ExceptionCaseQuerySet.as_manager()

    class Meta:
        ordering = ["sla_due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(status__in=["open", "in_progress"]),
                name="exceptioncase_one_open_per_subject",
            )
        ]
        indexes = [
            models.Index(fields=["status", "sla_due_at"], name="exceptioncase_sla_idx"),
            models.Index(fields=["queue", "status"], name="exceptioncase_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.subject_label}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES

    @property
    def stream(self) -> str:
        """Cases about an order or its fulfillments belong to the order's stream."""
        if self.order is not None:
            return f"order:{self.order.number}"
        return f"exception:{self.pk}"

    @transition(
        field=status,
        source=[CaseStatus.OPEN, CaseStatus.IN_PROGRESS],
        target=CaseStatus.IN_PROGRESS,
    )
    def assign(self, *, to: "User") -> None:
        self.assignee = to

    @transition(field=status, source=CaseStatus.OPEN, target=CaseStatus.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(
        field=status, source=[CaseStatus.OPEN, CaseStatus.IN_PROGRESS], target=CaseStatus.RESOLVED
    )
    def resolve(self, *, at: datetime, resolution: str, note: str) -> None:
        self.resolved_at = at
        self.resolution = resolution[:40]
        self.resolution_note = note

    @transition(
        field=status, source=[CaseStatus.OPEN, CaseStatus.IN_PROGRESS], target=CaseStatus.DISMISSED
    )
    def dismiss(self, *, at: datetime, note: str) -> None:
        self.resolved_at = at
        self.resolution = "dismissed"
        self.resolution_note = note


class ExceptionRuleSet(VersionedRuleSet):
    """Versioned rules routing cases to queues. Rules and thresholds change only while draft;
    exactly one set is active (partial unique index)."""

    key = models.SlugField(max_length=50, default="default")
    thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text="Detector thresholds overriding settings.OMS_EXCEPTION_THRESHOLDS, e.g. "
        '{"stuck_minutes": {"created": 15}, "backorder_days": 3}.',
    )
    history = HistoricalRecords()

    STREAM_PREFIX = "exception_rules"

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="exruleset_key_version_unique"),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="exruleset_one_active"
            ),
        ]


class ExceptionRule(models.Model):
    """One ordered rule of a set: blank criteria match anything; the first match wins."""

    rule_set = models.ForeignKey(ExceptionRuleSet, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=24, choices=ExceptionKind.choices, blank=True)
    channel_code = models.CharField(max_length=50, blank=True)
    node_code = models.CharField(max_length=32, blank=True)
    # Same range as the order amounts they are compared with (oms/core/money.py).
    min_order_value = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    max_order_value = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    sla_minutes = models.PositiveIntegerField(default=240)

    class Meta:
        ordering = ["rule_set_id", "position", "id"]

    def __str__(self) -> str:
        criteria = [
            f"{name}={value}"
            for name, value in (
                ("kind", self.kind),
                ("channel", self.channel_code),
                ("node", self.node_code),
                ("min", self.min_order_value),
                ("max", self.max_order_value),
            )
            if value not in ("", None)
        ]
        return f"#{self.position} {' '.join(criteria) or 'any'} → {self.queue_id}/{self.priority}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"


class FinanceExport(FSMModelMixin, TimeStampedModel):
    """One finance export (ops/finance): what was asked, how far it got, where its file is and
    until when it may be downloaded. Small exports run in the request; large ones (more than
    ops.finance.exports.INLINE_ROWS rows) in a Celery task that updates `rows_done`."""

    kind = models.CharField(max_length=20)
    file_format = models.CharField(max_length=4, choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    date_from = models.DateField()
    date_to = models.DateField()
    channel_code = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = FSMField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED, protected=True
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="finance_exports",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.date_from}–{self.date_to} ({self.file_format})"

    # Transitions only assign fields; ops/finance/exports.py decides when.
    @transition(field=status, source=ExportStatus.QUEUED, target=ExportStatus.RUNNING)
    def start(self, *, rows_total: int) -> None:
        self.rows_total = rows_total

    @transition(field=status, source=ExportStatus.RUNNING, target=ExportStatus.DONE)
    def finish(self, *, file_name: str, rows: int, at: datetime, expires_at: datetime) -> None:
        self.file_name = file_name
        self.rows_done = rows
        self.finished_at = at
        self.expires_at = expires_at

    @transition(
        field=status, source=[ExportStatus.QUEUED, ExportStatus.RUNNING], target=ExportStatus.FAILED
    )
    def fail(self, *, error: str, at: datetime) -> None:
        self.error = error[:500]
        self.finished_at = at

    @property
    def progress(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(99, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0


class KpiRollupDay(models.Model):
    """A UTC day whose order KPIs are pre-aggregated in `KpiRollup` (ops/kpis/rollups.py).

    The dashboard reads a past day from its rollup rows only when this row says the day was
    computed; any other day (today, a day never computed) is computed from the orders
    themselves. A day with no orders still has this row, and no `KpiRollup` rows."""

    day = models.DateField(primary_key=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"KPI rollup of {self.day}"


class KpiRollup(models.Model):
    """The order KPIs of one UTC day and one channel, in a form whose sums over days give
    exactly what ops/kpis/selectors.py computes from the raw rows over any range:

    - counts that add up (orders, cancelled, backordered, manual touches, shipped orders,
      fulfillment orders shipped and on time);
    - the order-to-ship seconds of the orders first shipped that day (percentiles of a range
      need every value, not daily percentiles);
    - the epoch of each first-shipped order's second shipment (split in a range = shipped
      more than once before the range's end);
    - the epoch of the latest `order.backordered` event of an order placed that day whose
      event is older than the day (a range counts it when the event is in the range's span).
    """

    day = models.DateField()
    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="+")
    orders = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    backordered = models.PositiveIntegerField(default=0)
    backordered_before = models.JSONField(default=list)
    manual_touches = models.PositiveIntegerField(default=0)
    shipped_orders = models.PositiveIntegerField(default=0)
    ship_seconds = models.JSONField(default=list)
    second_ship_epochs = models.JSONField(default=list)
    fo_shipped = models.PositiveIntegerField(default=0)
    fo_on_time = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "channel_id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "channel"], name="kpi_rollup_day_channel"),
        ]

    def __str__(self) -> str:
        return f"KPI rollup {self.day} channel {self.channel_id}"


class KpiRollupCursor(models.Model):
    """The refresh task's place in the event log (one row): events above `previous_event_id`
    are scanned for the days they change. Two runs back, not one, so an event committed after
    the run that saw a higher id is still seen by the next run."""

    previous_event_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"KPI rollup cursor at event {self.last_event_id}"
