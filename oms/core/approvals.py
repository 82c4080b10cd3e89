"""Maker-checker for versioned configuration (routing rule sets, exception rule sets).

A version goes draft → pending approval → active → retired. The person who approves must be
neither its author nor its submitter. Approving retires the version that was active for the same
scope, in the same transaction. The model supplies field-only FSM transitions (`submit`,
`approve`, `reject`, `retire`) and the fields they set; each app supplies an `ApprovalFlow`
naming its event types and error codes, and decides its own extra conditions (routing needs a
backtest) and what "the same scope" is. Callers hold the version's row lock.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.core.transactions import require_atomic
from oms.events.services import record_event

if TYPE_CHECKING:
    # The AUTH_USER_MODEL that the rule sets' user foreign keys point to (django-stubs resolves
    # settings.AUTH_USER_MODEL to it).
    from django.contrib.auth.models import User


class Versioned(Protocol):
    """A VersionedRuleSet (oms/core/models.py), with its field-only FSM transitions."""

    pk: Any
    status: str
    created_by_id: Any
    submitted_by_id: Any

    @property
    def stream(self) -> str: ...

    def save(self, *, update_fields: list[str]) -> None: ...

    def submit(self, *, by: "User | None", at: datetime) -> None: ...

    def approve(self, *, by: "User | None", at: datetime, note: str) -> None: ...

    def reject(self, *, note: str) -> None: ...

    def retire(self, *, at: datetime) -> None: ...


@dataclass(frozen=True)
class ApprovalFlow:
    submitted: str  # event types
    approved: str
    rejected: str
    retired: str
    not_draft: str  # error codes
    not_pending: str
    self_approval: str
    refuse: Callable[[str, str], DomainError]  # (code, detail) -> the app's refusal
    payload: Callable[[Any], dict[str, Any]]
    system_label: str  # the actor when no user acts (seeding, tests)

    def actor(self, user: AbstractBaseUser | None) -> Actor:
        return Actor.for_user(user) if user is not None else Actor.system(self.system_label)


def submit_version(version: Versioned, *, user: "User | None", flow: ApprovalFlow) -> None:
    require_atomic("submit_version()")
    if version.status != "draft":
        raise flow.refuse(flow.not_draft, f"{version} is not a draft.")
    version.submit(by=user, at=timezone.now())
    version.save(
        update_fields=["status", "submitted_by", "submitted_at", "review_note", "updated_at"]
    )
    record_event(
        stream=version.stream,
        type=flow.submitted,
        actor=flow.actor(user),
        payload=flow.payload(version),
    )


def check_approvable(
    version: Versioned, *, approver: AbstractBaseUser | None, flow: ApprovalFlow
) -> None:
    """Pending, and not approved by its own author or submitter."""
    if version.status != "pending_approval":
        raise flow.refuse(flow.not_pending, f"{version} is not waiting for approval.")
    if approver is not None and approver.pk in {version.created_by_id, version.submitted_by_id}:
        raise flow.refuse(
            flow.self_approval,
            "A rule set must be approved by someone other than its author and submitter.",
        )


def approve_version(
    version: Versioned,
    *,
    approver: "User | None",
    note: str,
    current: Versioned | None,
    flow: ApprovalFlow,
) -> None:
    """Activate `version` and retire `current` (the scope's active version, locked by the
    caller). Call check_approvable() and the app's own conditions first."""
    require_atomic("approve_version()")
    now = timezone.now()
    if current is not None:
        current.retire(at=now)
        current.save(update_fields=["status", "retired_at", "updated_at"])
        record_event(
            stream=current.stream,
            type=flow.retired,
            actor=flow.actor(approver),
            payload={**flow.payload(current), "replaced_by": version.pk},
        )
    version.approve(by=approver, at=now, note=note)
    version.save(
        update_fields=["status", "approved_by", "approved_at", "review_note", "updated_at"]
    )
    record_event(
        stream=version.stream,
        type=flow.approved,
        actor=flow.actor(approver),
        payload={
            **flow.payload(version),
            "note": note,
            "replaced": current.pk if current else None,
        },
    )


def reject_version(
    version: Versioned, *, approver: AbstractBaseUser | None, note: str, flow: ApprovalFlow
) -> None:
    require_atomic("reject_version()")
    if version.status != "pending_approval":
        raise flow.refuse(flow.not_pending, f"{version} is not waiting for approval.")
    version.reject(note=note)
    version.save(
        update_fields=["status", "review_note", "submitted_by", "submitted_at", "updated_at"]
    )
    record_event(
        stream=version.stream,
        type=flow.rejected,
        actor=flow.actor(approver),
        payload={**flow.payload(version), "note": note},
    )
