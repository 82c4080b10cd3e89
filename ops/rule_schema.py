"""One schema for an exception rule set: its detector thresholds and its rules (pydantic).

The same check runs when a draft is created or edited, when it is submitted and when it is
approved (ops/services/rulesets.py), so a set that fails cannot become active; the detectors
check the active set's thresholds again before use and, on a failure, raise a case instead of
crashing (ops/services/detectors.py). Messages are written for the person at the form:
`{"backorder_days": "three"}` reads "Threshold backorder_days: a whole number is needed, got
'three'."
"""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ops.models import ExceptionKind, Priority

ORDER_STATUSES_WATCHED = ("created", "backordered", "allocated", "released", "partially_shipped")


class Thresholds(BaseModel):
    """Overrides of the detector thresholds (ops.rules.DEFAULT_THRESHOLDS); all optional."""

    model_config = ConfigDict(extra="forbid", strict=True)

    stuck_minutes: dict[str, int] | None = None
    backorder_days: int | None = Field(default=None, ge=1, le=365)
    feed_stale_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    # inventory reconciliation (migration/services/reconciliation.py): a node×SKU pair is
    # accurate within the tolerance; a case opens for a pair off by more than the units or value
    inventory_tolerance_units: int | None = Field(default=None, ge=0, le=1_000_000)
    inventory_variance_units: int | None = Field(default=None, ge=0, le=1_000_000)
    inventory_variance_value: int | None = Field(default=None, ge=0, le=10**12)
    # cutover go/no-go (migration/services/go_no_go.py): a channel's case opens when its shadow
    # agreement is below the percent (over the days, once enough orders were compared) or it
    # has more dead legacy handoffs than allowed
    cutover_min_agreement_percent: int | None = Field(default=None, ge=0, le=100)
    cutover_agreement_days: int | None = Field(default=None, ge=1, le=365)
    cutover_min_compared: int | None = Field(default=None, ge=1, le=1_000_000)
    cutover_max_dead_handoffs: int | None = Field(default=None, ge=0, le=1_000_000)
    # ... or its webhook / connector error rate (once enough calls) or the inventory variance
    # is above the percent
    cutover_min_calls: int | None = Field(default=None, ge=1, le=1_000_000)
    cutover_max_webhook_error_percent: int | None = Field(default=None, ge=0, le=100)
    cutover_max_connector_error_percent: int | None = Field(default=None, ge=0, le=100)
    cutover_max_inventory_variance_percent: int | None = Field(default=None, ge=0, le=100)
    # order status reconciliation: differing orders tolerated before cases open
    order_status_mismatches: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _statuses(self) -> "Thresholds":
        for status, minutes in (self.stuck_minutes or {}).items():
            if status not in ORDER_STATUSES_WATCHED:
                raise ValueError(
                    f"stuck_minutes: {status!r} is not an order status that can be stuck "
                    f"(one of {', '.join(ORDER_STATUSES_WATCHED)})"
                )
            if minutes < 1:
                raise ValueError(f"stuck_minutes.{status}: at least 1 minute")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="ignore")

    queue: str = Field(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    kind: str = ""
    channel: str = ""
    node: str = ""
    min_order_value: Decimal | None = Field(default=None, ge=0)
    max_order_value: Decimal | None = Field(default=None, ge=0)
    priority: str = "p3"
    sla_minutes: int = Field(default=240, ge=1, le=60 * 24 * 90)

    @model_validator(mode="after")
    def _consistent(self) -> "Rule":
        if self.kind and self.kind not in ExceptionKind.values:
            raise ValueError(f"kind {self.kind!r} is not an exception kind")
        if self.priority not in Priority.values:
            raise ValueError(f"priority {self.priority!r} is not one of p1, p2, p3, p4")
        low, high = self.min_order_value, self.max_order_value
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"the minimum order value ({low}) is above the maximum ({high}): "
                "no order could match"
            )
        return self


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "__root__")


def _message(error: dict[str, Any], prefix: str) -> str:
    where = _where(error.get("loc", ()))
    text = str(error.get("msg", "is invalid"))
    text = text.removeprefix("Value error, ")
    if error.get("type") in ("int_type", "int_parsing"):
        text = f"a whole number is needed, got {error.get('input')!r}"
    elif error.get("type") == "extra_forbidden":
        text = f"is not a known threshold ({', '.join(sorted(Thresholds.model_fields))})"
    return f"{prefix}{' ' + where if where else ''}: {text}."


def threshold_errors(thresholds: Any) -> list[str]:
    """Human messages for what is wrong with `thresholds`; [] when they are valid."""
    if thresholds in (None, ""):
        return []
    if not isinstance(thresholds, dict):
        return ['Thresholds: a JSON object is needed, e.g. {"backorder_days": 3}.']
    try:
        Thresholds.model_validate(thresholds)
    except ValidationError as exc:
        return [_message(error, "Threshold") for error in exc.errors()]
    return []


def rule_errors(rules: list[dict[str, Any]]) -> list[str]:
    found = []
    for position, spec in enumerate(rules, start=1):
        try:
            Rule.model_validate(spec)
        except ValidationError as exc:
            found += [_message(error, f"Rule {position}") for error in exc.errors()]
    return found


def rule_set_errors(*, thresholds: Any, rules: list[dict[str, Any]]) -> list[str]:
    return threshold_errors(thresholds) + rule_errors(rules)
