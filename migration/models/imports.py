"""Import jobs (a dry run or a real run of one mapping over one file, with its report), the
record of what each source row became (idempotency by source, kind and source id), and the SKU
aliases products were imported with."""

from datetime import datetime

from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from oms.core.models import TimeStampedModel


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(FSMModelMixin, TimeStampedModel):
    mapping_name = models.CharField(max_length=100)
    mapping_text = models.TextField(help_text="The mapping file as it was when the job ran.")
    source = models.CharField(max_length=50)
    kind = models.CharField(max_length=20)
    input_name = models.CharField(max_length=300, help_text="The input file's path.")
    dry_run = models.BooleanField(default=True)
    update_changed = models.BooleanField(
        default=False, help_text="A changed source row updates what it made (else: reported)."
    )
    status = FSMField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING, protected=True
    )
    dry_run_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="real_runs",
        help_text="The dry run this real run was started from.",
    )
    rows_read = models.PositiveIntegerField(default=0)
    records_done = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    accepted_by = models.CharField(max_length=200, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        what = "dry run" if self.dry_run else "import"
        return f"{what} #{self.pk} {self.mapping_name}"

    @property
    def is_clean(self) -> bool:
        return self.status == JobStatus.DONE and self.errors == 0

    @transition(field=status, source=JobStatus.PENDING, target=JobStatus.RUNNING)
    def start(self, *, at: datetime) -> None:
        self.started_at = at

    @transition(field=status, source=JobStatus.RUNNING, target=JobStatus.DONE)
    def finish(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(
        field=status, source=[JobStatus.PENDING, JobStatus.RUNNING], target=JobStatus.FAILED
    )
    def fail(self, *, at: datetime, reason: str) -> None:
        self.finished_at = at
        self.failure = reason[:500]


class ImportedRecord(models.Model):
    """What one source record became. (source, kind, source_id) is unique: importing the same
    row again finds it here; its checksum says whether the row changed since."""

    source = models.CharField(max_length=50)
    kind = models.CharField(max_length=20)
    source_id = models.CharField(max_length=200)
    checksum = models.CharField(max_length=64)
    target_type = models.CharField(max_length=30)
    target_id = models.CharField(max_length=100)
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "source_id"], name="imported_record_source_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.source_id} -> {self.target_type} {self.target_id}"


class SkuAlias(models.Model):
    """Another system's name for a product (a legacy item id, a UPC): order imports resolve a
    line's SKU through it."""

    alias = models.CharField(max_length=64)
    source = models.CharField(max_length=50)
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="migration_aliases"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "alias"], name="sku_alias_source_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.alias} -> {self.product_id}"


class ReconciliationSource(TimeStampedModel):
    """Where the scheduled inventory reconciliation reads a node count from: a stock mapping
    (migration/mappings/, kind `stock`) over a file a node or the legacy system drops (a snapshot
    export, refreshed in place). `reconcile_inventory` without arguments, and the beat task, run
    every active source (migration/services/reconciliation.py)."""

    name = models.SlugField(max_length=50, unique=True)
    mapping_name = models.CharField(
        max_length=300, help_text="A shipped mapping's name (e.g. kibo_inventory_jsonl) or a path."
    )
    input_path = models.CharField(
        max_length=300, help_text="The node count file (relative to the checkout or absolute)."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StatusReconciliation(models.Model):
    """One comparison of oms's order statuses with a legacy status feed during dual running
    (migration/services/status_reconciliation.py): the figures, and each order whose statuses
    differ (`mismatches`: order number, channel, legacy id, oms status, legacy status) or that
    the feed names and oms does not hold (`not_in_oms`). Written once, never edited."""

    source = models.CharField(max_length=50)
    input_name = models.CharField(max_length=300)
    reconciled_at = models.DateTimeField(auto_now_add=True)
    compared = models.PositiveIntegerField(default=0)
    matching = models.PositiveIntegerField(default=0)
    mismatched = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0, help_text="Feed orders oms does not hold.")
    case_threshold = models.PositiveIntegerField(
        help_text="Mismatching orders tolerated before cases open (the active exception rule "
        "set's order_status_mismatches)."
    )
    mismatches = models.JSONField(default=list, blank=True)
    not_in_oms = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-reconciled_at", "-id"]

    def __str__(self) -> str:
        return f"status reconciliation #{self.pk} {self.source}"
