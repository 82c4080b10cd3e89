"""The cutover from a legacy OMS, per channel (docs/migration.md, "Cutover").

- `CutoverPlan`: who owns the channel's new orders, as versioned data approved by a second
  person (oms/core/approvals.py, the same maker-checker as routing rule sets): legacy, shadow,
  canary (a deterministic share, optionally narrowed) or oms. One active plan per channel.
- `LegacyDecision`: what the legacy system decided for a mirrored order (nodes, splits,
  cancellation), mirrored in through a mapping file or the legacy feed endpoint.
- `ShadowDecision`: what oms would have decided for the same order with the active rule set,
  planned without reserving anything.
- `LegacyHandoff`: the outbox of orders handed to the legacy system in its format, with
  retries and a dead letter.
"""

from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from oms.core.models import TimeStampedModel, VersionedRuleSet


class CutoverMode(models.TextChoices):
    LEGACY = "legacy", "Legacy: oms stores mirrored orders, decides nothing"
    SHADOW = "shadow", "Shadow: oms plans the legacy system's orders without acting"
    CANARY = "canary", "Canary: oms owns a share of the orders"
    OMS = "oms", "oms owns every order"


class CutoverPlan(VersionedRuleSet):
    """A version of one channel's cutover plan. `narrowing` limits a canary to orders matching
    every listed criterion: {"regions": [...], "postal_prefixes": [...], "stores": [...],
    "delivery_methods": [...]} (an absent or empty list matches everything)."""

    key = models.SlugField(max_length=50, help_text="The channel's code.")
    channel = models.ForeignKey(
        "orders.Channel", on_delete=models.PROTECT, related_name="cutover_plans"
    )
    mode = models.CharField(max_length=10, choices=CutoverMode.choices)
    share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Canary: the share of orders oms owns, 0 to 100 (by a hash of the order id).",
    )
    narrowing = models.JSONField(default=dict, blank=True)
    history = HistoricalRecords()

    STREAM_PREFIX = "cutover"

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="cutover_key_version_unique"),
            models.UniqueConstraint(
                fields=["channel"],
                condition=Q(status="active"),
                name="cutover_one_active_per_channel",
            ),
            models.CheckConstraint(
                condition=Q(share_percent__gte=0) & Q(share_percent__lte=100),
                name="cutover_share_0_100",
            ),
        ]

    def __str__(self) -> str:
        share = f" {self.share_percent}%" if self.mode == CutoverMode.CANARY else ""
        return (
            f"{self.key} {self.mode}{share} v{self.version} ({self.get_status_display().lower()})"
        )


class LegacyDecision(TimeStampedModel):
    """What the legacy system decided for an order: `allocations` is a list of
    {"node": code, "sku": SKU, "quantity": n}; one shipment per distinct node."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="legacy_decision"
    )
    allocations = models.JSONField(default=list)
    is_cancelled = models.BooleanField(default=False)
    source = models.CharField(max_length=50, help_text="api, or the mapping that brought it.")
    decided_at = models.DateTimeField(null=True, blank=True)
    node_miles = models.JSONField(default=dict)  # node code -> miles to the destination


class ShadowDecision(TimeStampedModel):
    """oms's plan for a shadow order with the rule set active then, nothing reserved."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="shadow_decision"
    )
    rule_set = models.ForeignKey(
        "fulfillment.RoutingRuleSet",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the built-in defaults.",
    )
    outcome = models.CharField(max_length=24)
    allocations = models.JSONField(default=list)  # as LegacyDecision.allocations
    plan = models.JSONField(default=dict)  # Plan.to_stored_dict(): candidates and reasons
    node_miles = models.JSONField(default=dict)  # node code -> miles to the destination


class HandoffStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead (retries exhausted)"


class LegacyHandoff(FSMModelMixin, TimeStampedModel):
    """One order handed to the legacy system in its format (an outbox row written in the same
    transaction as the decision to hand it over; sent after commit, retried with backoff)."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="handoff")
    reason = models.CharField(max_length=20)  # not_owned | rolled_back
    payload = models.JSONField()
    status = FSMField(
        max_length=10, choices=HandoffStatus.choices, default=HandoffStatus.PENDING, protected=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="handoff_due_idx")]

    @transition(field=status, source=HandoffStatus.PENDING, target=HandoffStatus.SENT)
    def mark_sent(self, *, at: datetime) -> None:
        self.sent_at = at
        self.last_error = ""

    @transition(field=status, source=HandoffStatus.PENDING, target=HandoffStatus.DEAD)
    def mark_dead(self, *, error: str) -> None:
        self.last_error = error[:500]

    @transition(field=status, source=HandoffStatus.DEAD, target=HandoffStatus.PENDING)
    def revive(self, *, at: datetime) -> None:
        self.next_attempt_at = at
        self.attempts = 0
