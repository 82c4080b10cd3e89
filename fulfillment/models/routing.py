"""Routing rule sets (versioned, maker-checker approved), their backtests, and the routing
decisions made with them.

A rule set is data: its `config` is validated against `fulfillment.rules.RuleConfig`. Once
submitted it never changes; editing an active set means a new draft version of the same `key`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from oms.core.models import VersionedRuleSet


class RoutingRuleSet(VersionedRuleSet):
    key = models.SlugField(max_length=50, help_text="Identifies the rule set across versions.")
    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rule_sets",
        help_text="Empty: the default for every channel without a rule set of its own.",
    )
    config = models.JSONField(default=dict)
    history = HistoricalRecords()

    STREAM_PREFIX = "ruleset"

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


class RoutingTrigger(models.TextChoices):
    """What made oms route the order (stored on the decision, sent in `order.routed`)."""

    CAPTURE = "capture", "Captured"
    HOLD_RELEASED = "hold_released", "Last hold released"
    STOCK_ARRIVED = "stock_arrived", "Stock arrived for a backorder"
    REROUTE = "reroute", "Node rejected or shorted"
    MANUAL_REROUTE = "manual_reroute", "Rerouted from the exception console"
    SWEEPER = "sweeper", "Re-sent by the sweeper"
    ADDRESS_CHANGED = "address_changed", "Shipping address changed before release"


class RoutingDecision(models.Model):
    """One routing of one order: the rule set used, the chosen plan, the candidates worth
    reading (chosen, best other eligible, best-scored excluded: `Plan.to_stored_dict`) with why
    they were excluded or how they scored, how many nodes each filter excluded, and how long
    deciding took. Immutable once written; a reroute writes a new decision."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="routing_decisions"
    )
    rule_set = models.ForeignKey(
        RoutingRuleSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule_set_label = models.CharField(max_length=200)
    trigger = models.CharField(
        max_length=30, choices=RoutingTrigger.choices, default=RoutingTrigger.CAPTURE
    )
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
