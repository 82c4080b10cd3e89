"""Reads for the exception console: cases with what the admin shows, the active rule set, the
SLA flag, and the "where is this order and why" timeline."""

from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from oms.core.models import RuleSetStatus
from ops.models import OPEN_CASE_STATUSES, ExceptionCase, ExceptionRuleSet
from ops.rule_schema import threshold_errors
from ops.rules import thresholds


def active_exception_rule_set() -> ExceptionRuleSet | None:
    return ExceptionRuleSet.objects.filter(status=RuleSetStatus.ACTIVE).first()


def current_thresholds() -> dict[str, Any]:
    """Detector thresholds: settings, overridden by the active exception rule set when its
    thresholds pass the schema (a set activated before the schema existed may not: then the
    defaults apply, and ops.services.detectors raises a config_invalid case about it)."""
    rule_set = active_exception_rule_set()
    overrides = rule_set.thresholds if rule_set else None
    if threshold_errors(overrides):
        overrides = None
    return thresholds(overrides)


def cases_for_staff(now: datetime | None = None) -> QuerySet[ExceptionCase]:
    """Every case, with `sla_breached` annotated (unresolved and past its SLA)."""
    now = now or timezone.now()
    return ExceptionCase.objects.select_related("queue", "assignee", "order").annotate(
        sla_breached=Case(
            When(Q(status__in=OPEN_CASE_STATUSES, sla_due_at__lt=now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def open_cases_for_order(order_id: int) -> QuerySet[ExceptionCase]:
    return cases_for_staff().filter(order_id=order_id, status__in=OPEN_CASE_STATUSES)
