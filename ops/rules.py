"""Matching a case to the first rule of the active exception rule set (pure Python), and the
detector thresholds (settings, overridden by the active set's `thresholds`)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

DEFAULT_QUEUE = "ops"
DEFAULT_PRIORITY = "p3"
DEFAULT_SLA_MINUTES = 240

DEFAULT_THRESHOLDS: dict[str, Any] = {
    # minutes without progress, per order status, before an order counts as stuck
    "stuck_minutes": {"created": 15, "allocated": 30, "released": 24 * 60},
    "backorder_days": 3,
    "feed_stale_hours": 24,
    # inventory reconciliation: |oms − node| within this many units counts as accurate (KPI) ...
    "inventory_tolerance_units": 0,
    # ... and a pair off by more units than this, or by more value (whole currency units;
    # 0 = no value threshold), opens an inventory_variance case on the node
    "inventory_variance_units": 2,
    "inventory_variance_value": 100,
    # cutover go/no-go (migration/services/go_no_go.py), per channel with a cutover plan: a
    # shadow agreement below this percent over the last `cutover_agreement_days` days, judged
    # once at least `cutover_min_compared` orders were compared, or more dead legacy handoffs
    # than `cutover_max_dead_handoffs`, opens the channel's cutover_no_go case
    "cutover_min_agreement_percent": 90,
    "cutover_agreement_days": 7,
    "cutover_min_compared": 20,
    "cutover_max_dead_handoffs": 0,
    # ... or, once `cutover_min_calls` were made, more than this percent of oms's webhook
    # attempts or connector calls for the channel's orders failed, or the latest inventory
    # reconciliation found more than this percent of node×SKU pairs differing
    "cutover_min_calls": 20,
    "cutover_max_webhook_error_percent": 10,
    "cutover_max_connector_error_percent": 10,
    "cutover_max_inventory_variance_percent": 5,
    # order status reconciliation (dual running): a comparison finding more orders whose oms
    # status differs from the legacy feed's than this opens an order_status_mismatch case per
    # differing order
    "order_status_mismatches": 0,
}


@dataclass(frozen=True)
class CaseFacts:
    kind: str
    channel_code: str = ""
    node_code: str = ""
    order_value: Decimal | None = None


@dataclass(frozen=True)
class Route:
    queue_code: str
    priority: str
    sla_minutes: int
    rule_label: str


def rule_matches(rule: Any, facts: CaseFacts) -> bool:
    if rule.kind and rule.kind != facts.kind:
        return False
    if rule.channel_code and rule.channel_code != facts.channel_code:
        return False
    if rule.node_code and rule.node_code != facts.node_code:
        return False
    if rule.min_order_value is not None and (
        facts.order_value is None or facts.order_value < rule.min_order_value
    ):
        return False
    return not (
        rule.max_order_value is not None
        and (facts.order_value is None or facts.order_value > rule.max_order_value)
    )


def choose_route(rules: list[Any], facts: CaseFacts, *, set_label: str = "") -> Route:
    """The first matching rule (rules in position order), else the default queue."""
    for rule in rules:
        if rule_matches(rule, facts):
            return Route(
                queue_code=rule.queue.code,
                priority=rule.priority,
                sla_minutes=rule.sla_minutes,
                rule_label=f"{set_label} rule #{rule.position}".strip(),
            )
    return Route(DEFAULT_QUEUE, DEFAULT_PRIORITY, DEFAULT_SLA_MINUTES, "default")


def thresholds(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    merged: dict[str, Any] = {
        **DEFAULT_THRESHOLDS,
        "stuck_minutes": dict(DEFAULT_THRESHOLDS["stuck_minutes"]),
    }
    for source in (getattr(settings, "OMS_EXCEPTION_THRESHOLDS", None) or {}, overrides or {}):
        for key, value in source.items():
            if key == "stuck_minutes":
                merged["stuck_minutes"].update(value)
            else:
                merged[key] = value
    return merged
