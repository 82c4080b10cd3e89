"""Routing rule sets (versioned, maker-checker approved), their backtests, and the routing
decisions made with them.

A rule set is data: its `config` is validated against `fulfillment.rules.RuleConfig`. Once
submitted it never changes; editing an active set means a new draft version of the same `key`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from oms.core.models import TimeStampedModel


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class RoutingRuleSet(FSMModelMixin, TimeStampedModel):
    key = models.SlugField(max_length=50, help_text="Identifies the rule set across versions.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rule_sets",
        help_text="Empty: the default for every channel without a rule set of its own.",
    )
    config = models.JSONField(default=dict)
    status = FSMField(
        max_length=20, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="ruleset_key_version_unique"),
            # Exactly one active set per channel, and one default (channel NULL -> 0).
            models.UniqueConstraint(
                Coalesce("channel", models.Value(0), output_field=models.BigIntegerField()),
                condition=Q(status="active"),
                name="ruleset_one_active_per_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_status_display().lower()})"

    @property
    def stream(self) -> str:
        return f"ruleset:{self.key}"

    @transition(field=status, source=RuleSetStatus.DRAFT, target=RuleSetStatus.PENDING_APPROVAL)
    def submit(self, *, by: object, at: object) -> None:
        self.submitted_by = by
        self.submitted_at = at
        self.review_note = ""

    @transition(field=status, source=RuleSetStatus.PENDING_APPROVAL, target=RuleSetStatus.ACTIVE)
    def approve(self, *, by: object, at: object, note: str) -> None:
        self.approved_by = by
        self.approved_at = at
        self.review_note = note[:500]

    @transition(field=status, source=RuleSetStatus.PENDING_APPROVAL, target=RuleSetStatus.DRAFT)
    def reject(self, *, note: str) -> None:
        self.review_note = note[:500]
        self.submitted_by = None
        self.submitted_at = None

    @transition(field=status, source=RuleSetStatus.ACTIVE, target=RuleSetStatus.RETIRED)
    def retire(self, *, at: object) -> None:
        self.retired_at = at


class BacktestReport(models.Model):
    """What a candidate rule set would have done to past orders, next to the active set."""

    rule_set = models.ForeignKey(RoutingRuleSet, on_delete=models.CASCADE, related_name="backtests")
    baseline = models.ForeignKey(
        RoutingRuleSet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The set that was active when the backtest ran (empty: built-in defaults).",
    )
    period_from = models.DateTimeField()
    period_to = models.DateTimeField()
    orders_considered = models.PositiveIntegerField(default=0)
    candidate_metrics = models.JSONField(default=dict)
    baseline_metrics = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Backtest of {self.rule_set} ({self.orders_considered} orders)"


class RoutingOutcome(models.TextChoices):
    ROUTED = "routed", "Routed"
    PARTIALLY_BACKORDERED = "partially_backordered", "Partially backordered"
    BACKORDERED = "backordered", "Backordered"
    REJECTED = "rejected", "Rejected"


class RoutingDecision(models.Model):
    """One routing of one order: the rule set used, every candidate with why it was excluded or
    how it scored, the chosen plan and how long deciding took. Immutable once written; a reroute
    writes a new decision."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="routing_decisions"
    )
    rule_set = models.ForeignKey(
        RoutingRuleSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule_set_label = models.CharField(max_length=200)
    trigger = models.CharField(max_length=30, default="capture")
    outcome = models.CharField(max_length=24, choices=RoutingOutcome.choices)
    plan = models.JSONField(default=dict)
    explanation = models.JSONField(default=list)
    elapsed_ms = models.DecimalField(max_digits=9, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order_id", "id"]
        indexes = [models.Index(fields=["created_at"], name="routingdecision_created_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.outcome} by {self.rule_set_label}"
