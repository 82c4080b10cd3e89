"""The exception rule set lifecycle: draft → pending approval → active → retired.

Maker-checker as for routing rule sets: the approver must be neither the author nor the
submitter. Approving retires the active set in the same transaction (a partial unique index
keeps exactly one active). Rules and thresholds change only while draft.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction

from oms.core.approvals import (
    ApprovalFlow,
    approve_version,
    check_approvable,
    reject_version,
    submit_version,
)
from oms.core.models import RuleSetStatus
from oms.events.services import record_event
from ops.events import (
    EXCEPTION_RULES_APPROVED,
    EXCEPTION_RULES_CREATED,
    EXCEPTION_RULES_REJECTED,
    EXCEPTION_RULES_RETIRED,
    EXCEPTION_RULES_SUBMITTED,
)
from ops.exceptions import OpsErrorCode, OpsRefused
from ops.locks import lock_rule_set
from ops.models import ExceptionRule, ExceptionRuleSet, Queue
from ops.rule_schema import rule_set_errors

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the AUTH_USER_MODEL the user FKs point to


def _payload(rule_set: ExceptionRuleSet) -> dict[str, Any]:
    return {
        "rule_set_id": rule_set.pk,
        "key": rule_set.key,
        "version": rule_set.version,
        "status": rule_set.status,
    }


FLOW = ApprovalFlow(
    submitted=EXCEPTION_RULES_SUBMITTED,
    approved=EXCEPTION_RULES_APPROVED,
    rejected=EXCEPTION_RULES_REJECTED,
    retired=EXCEPTION_RULES_RETIRED,
    not_draft=OpsErrorCode.NOT_DRAFT,
    not_pending=OpsErrorCode.NOT_PENDING,
    self_approval=OpsErrorCode.SELF_APPROVAL,
    refuse=OpsRefused,
    payload=_payload,
    system_label="exception rules",
)


def _write_rules(rule_set: ExceptionRuleSet, rules: list[dict[str, Any]]) -> None:
    rule_set.rules.all().delete()
    for position, spec in enumerate(rules, start=1):
        queue, _ = Queue.objects.get_or_create(
            code=spec["queue"], defaults={"name": spec["queue"].replace("-", " ").title()}
        )
        ExceptionRule.objects.create(
            rule_set=rule_set,
            position=position,
            kind=spec.get("kind", ""),
            channel_code=spec.get("channel", ""),
            node_code=spec.get("node", ""),
            min_order_value=_decimal(spec.get("min_order_value")),
            max_order_value=_decimal(spec.get("max_order_value")),
            queue=queue,
            priority=spec.get("priority", "p3"),
            sla_minutes=int(spec.get("sla_minutes", 240)),
        )


def check_rule_set(*, thresholds: Any, rules: list[dict[str, Any]]) -> None:
    """Refuse (rule_set_invalid, 409) a set that fails the schema (ops/rule_schema.py), with
    every problem in words."""
    errors = rule_set_errors(thresholds=thresholds, rules=rules)
    if errors:
        raise OpsRefused(OpsErrorCode.INVALID, " ".join(errors), errors=errors)


def _stored_rules(rule_set: ExceptionRuleSet) -> list[dict[str, Any]]:
    return [
        {
            "queue": rule.queue.code,
            "kind": rule.kind,
            "channel": rule.channel_code,
            "node": rule.node_code,
            "min_order_value": rule.min_order_value,
            "max_order_value": rule.max_order_value,
            "priority": rule.priority,
            "sla_minutes": rule.sla_minutes,
        }
        for rule in rule_set.rules.select_related("queue").order_by("position")
    ]


def check_stored_rule_set(rule_set: ExceptionRuleSet) -> None:
    check_rule_set(thresholds=rule_set.thresholds, rules=_stored_rules(rule_set))


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def create_exception_rule_set(
    *,
    name: str,
    rules: list[dict[str, Any]],
    author: "User | None",
    key: str = "default",
    thresholds: dict[str, Any] | None = None,
) -> ExceptionRuleSet:
    """A new draft (next version of `key`). Each rule: queue, priority, sla_minutes and
    optional kind, channel, node, min_order_value, max_order_value; order = precedence."""
    check_rule_set(thresholds=thresholds, rules=rules)
    with transaction.atomic():
        latest = (
            ExceptionRuleSet.objects.select_for_update(of=("self",))
            .filter(key=key)
            .order_by("-version")
            .first()
        )
        rule_set = ExceptionRuleSet(
            key=key,
            version=(latest.version + 1) if latest else 1,
            name=name,
            thresholds=thresholds or {},
            created_by=author,
        )
        rule_set.save(force_insert=True)
        _write_rules(rule_set, rules)
        record_event(
            stream=rule_set.stream,
            type=EXCEPTION_RULES_CREATED,
            actor=FLOW.actor(author),
            payload={**_payload(rule_set), "rules": len(rules)},
        )
    return rule_set


def update_exception_rules(
    *,
    rule_set_id: int,
    rules: list[dict[str, Any]],
    editor: "User | None",
    name: str | None = None,
    description: str | None = None,
    thresholds: dict[str, Any] | None = None,
) -> ExceptionRuleSet:
    """Replace a draft's rules (and optionally its name, description, thresholds). Whoever last
    shaped the draft counts as its author for maker-checker, so they cannot approve it."""
    check_rule_set(thresholds=thresholds, rules=rules)
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        if rule_set.status != RuleSetStatus.DRAFT:
            raise OpsRefused(
                OpsErrorCode.NOT_EDITABLE, f"{rule_set} is frozen; create a new version."
            )
        _write_rules(rule_set, rules)
        fields = ["created_by", "updated_at"]
        for field, value in (
            ("name", name),
            ("description", description),
            ("thresholds", thresholds),
        ):
            if value is not None:
                setattr(rule_set, field, value)
                fields.append(field)
        if editor is not None:
            rule_set.created_by = editor
        rule_set.save(update_fields=fields)
    return rule_set


def submit_exception_rule_set(*, rule_set_id: int, user: "User | None") -> ExceptionRuleSet:
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        check_stored_rule_set(rule_set)
        submit_version(rule_set, user=user, flow=FLOW)
    return rule_set


def approve_exception_rule_set(
    *, rule_set_id: int, approver: "User | None", note: str = ""
) -> ExceptionRuleSet:
    """Activate a pending version (maker-checker); retires the active one."""
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        check_approvable(rule_set, approver=approver, flow=FLOW)
        check_stored_rule_set(rule_set)
        current = (
            ExceptionRuleSet.objects.select_for_update(of=("self",))
            .filter(status=RuleSetStatus.ACTIVE)
            .first()
        )
        approve_version(rule_set, approver=approver, note=note, current=current, flow=FLOW)
    return rule_set


def reject_exception_rule_set(
    *, rule_set_id: int, approver: "User | None", note: str
) -> ExceptionRuleSet:
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        reject_version(rule_set, approver=approver, note=note, flow=FLOW)
    return rule_set
