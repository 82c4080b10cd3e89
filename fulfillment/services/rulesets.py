"""The routing rule set lifecycle: draft → pending approval → active → retired.

Maker-checker: the person who approves must not be the person who wrote the version (nor the
one who submitted it), and a version cannot be approved before a backtest has been run on it.
Approving retires the set that was active for the same channel (or the default) in the same
transaction, so exactly one is active at any time (a partial unique index enforces it too).
"""

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from fulfillment.events import (
    RULESET_APPROVED,
    RULESET_CREATED,
    RULESET_REJECTED,
    RULESET_RETIRED,
    RULESET_SUBMITTED,
)
from fulfillment.exceptions import InvalidRuleConfig, RuleSetErrorCode, RuleSetRefused
from fulfillment.locks import lock_rule_set
from fulfillment.models import RoutingRuleSet, RuleSetStatus
from fulfillment.rules import validate_rule_config
from oms.core.approvals import (
    ApprovalFlow,
    approve_version,
    check_approvable,
    reject_version,
    submit_version,
)
from oms.core.errors import NotFound
from oms.events.services import record_event
from orders.models import Channel

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the AUTH_USER_MODEL the user FKs point to


def _payload(rule_set: RoutingRuleSet) -> dict[str, Any]:
    return {
        "rule_set_id": rule_set.pk,
        "key": rule_set.key,
        "version": rule_set.version,
        "channel": rule_set.channel.code if rule_set.channel is not None else None,
        "status": rule_set.status,
    }


FLOW = ApprovalFlow(
    submitted=RULESET_SUBMITTED,
    approved=RULESET_APPROVED,
    rejected=RULESET_REJECTED,
    retired=RULESET_RETIRED,
    not_draft=RuleSetErrorCode.NOT_DRAFT,
    not_pending=RuleSetErrorCode.NOT_PENDING,
    self_approval=RuleSetErrorCode.SELF_APPROVAL,
    refuse=RuleSetRefused,
    payload=_payload,
    system_label="routing rules",
)


def _validated(config: dict[str, Any]) -> dict[str, Any]:
    parsed, messages = validate_rule_config(config)
    if parsed is None:
        raise InvalidRuleConfig(messages)
    return parsed.model_dump(mode="json")


def create_rule_set(
    *,
    key: str,
    name: str,
    config: dict[str, Any],
    author: "User | None",
    channel_code: str | None = None,
    description: str = "",
) -> RoutingRuleSet:
    """A new draft: version 1 of `key`, or the next version if `key` exists."""
    channel = None
    if channel_code:
        channel = Channel.objects.filter(code=channel_code).first()
        if channel is None:
            raise NotFound(f"No channel {channel_code!r}.", code="channel_not_found")
    normalized = _validated(config)
    with transaction.atomic():
        latest = (
            RoutingRuleSet.objects.select_for_update(of=("self",))
            .filter(key=key)
            .order_by("-version")
            .first()
        )
        rule_set = RoutingRuleSet(
            key=key,
            version=(latest.version + 1) if latest else 1,
            name=name,
            description=description,
            channel=channel,
            config=normalized,
            created_by=author,
        )
        rule_set.save(force_insert=True)
        record_event(
            stream=rule_set.stream,
            type=RULESET_CREATED,
            actor=FLOW.actor(author),
            payload=_payload(rule_set),
        )
    return rule_set


def new_version_of(*, rule_set_id: int, author: "User | None") -> RoutingRuleSet:
    """Start editing any version (e.g. the active one): a draft copy with the next version."""
    source = RoutingRuleSet.objects.select_related("channel").filter(pk=rule_set_id).first()
    if source is None:
        raise NotFound(f"No routing rule set {rule_set_id}.", code="rule_set_not_found")
    return create_rule_set(
        key=source.key,
        name=source.name,
        config=source.config,
        author=author,
        channel_code=source.channel.code if source.channel else None,
        description=source.description,
    )


def update_draft(
    *,
    rule_set_id: int,
    config: dict[str, Any],
    editor: "User | None",
    name: str | None = None,
    description: str | None = None,
) -> RoutingRuleSet:
    """Change a draft's configuration. Anything past draft is frozen: make a new version."""
    normalized = _validated(config)
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        if rule_set.status != RuleSetStatus.DRAFT:
            raise RuleSetRefused(
                RuleSetErrorCode.NOT_EDITABLE,
                f"{rule_set} can no longer change; create a new version to edit it.",
            )
        rule_set.config = normalized
        fields = ["config", "updated_at"]
        if name is not None:
            rule_set.name = name
            fields.append("name")
        if description is not None:
            rule_set.description = description
            fields.append("description")
        if editor is not None and rule_set.created_by_id != editor.pk:
            # Whoever last shaped the draft counts as its author for maker-checker.
            rule_set.created_by = editor
            fields.append("created_by")
        rule_set.save(update_fields=fields)
    return rule_set


def submit_rule_set(*, rule_set_id: int, user: "User | None") -> RoutingRuleSet:
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        submit_version(rule_set, user=user, flow=FLOW)
    return rule_set


def approve_rule_set(
    *, rule_set_id: int, approver: "User | None", note: str = ""
) -> RoutingRuleSet:
    """Activate a pending version. Refused for its author or submitter (maker-checker) and
    without a backtest report. Retires the previously active set of the same scope (channel,
    or the default)."""
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        check_approvable(rule_set, approver=approver, flow=FLOW)
        if not rule_set.backtests.exists():
            raise RuleSetRefused(
                RuleSetErrorCode.BACKTEST_REQUIRED,
                f"Run a backtest of {rule_set} before approving it.",
            )
        current = (
            RoutingRuleSet.objects.select_for_update(of=("self",))
            .filter(status=RuleSetStatus.ACTIVE, channel=rule_set.channel_id)
            .first()
        )
        approve_version(rule_set, approver=approver, note=note, current=current, flow=FLOW)
    return rule_set


def reject_rule_set(*, rule_set_id: int, approver: "User | None", note: str) -> RoutingRuleSet:
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        reject_version(rule_set, approver=approver, note=note, flow=FLOW)
    return rule_set


def retire_rule_set(*, rule_set_id: int, user: "User | None") -> RoutingRuleSet:
    """Stop using an active set; its channel falls back to the default set (or built-ins)."""
    with transaction.atomic():
        rule_set = lock_rule_set(rule_set_id)
        if rule_set.status != RuleSetStatus.ACTIVE:
            raise RuleSetRefused(RuleSetErrorCode.NOT_ACTIVE, f"{rule_set} is not active.")
        rule_set.retire(at=timezone.now())
        rule_set.save(update_fields=["status", "retired_at", "updated_at"])
        record_event(
            stream=rule_set.stream,
            type=RULESET_RETIRED,
            actor=FLOW.actor(user),
            payload=_payload(rule_set),
        )
    return rule_set
