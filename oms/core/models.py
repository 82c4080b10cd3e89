from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

if TYPE_CHECKING:
    # The AUTH_USER_MODEL the user foreign keys point to (django-stubs resolves the setting).
    from django.contrib.auth.models import User


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class VersionedRuleSet(FSMModelMixin, TimeStampedModel):
    """A version of configuration that a second person approves (routing rule sets, exception
    rule sets): draft → pending approval → active → retired. Transitions only set fields; the
    lifecycle services are in oms/core/approvals.py. Concrete models add `key`, their scope,
    their constraints (one active per scope) and `history`."""

    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = FSMField(
        max_length=20, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    STREAM_PREFIX = "rules"
    key: str  # concrete models declare the field

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_status_display().lower()})"

    @property
    def stream(self) -> str:
        return f"{self.STREAM_PREFIX}:{self.key}"

    @transition(field="status", source=RuleSetStatus.DRAFT, target=RuleSetStatus.PENDING_APPROVAL)
    def submit(self, *, by: "User | None", at: datetime) -> None:
        self.submitted_by = by
        self.submitted_at = at
        self.review_note = ""

    @transition(field="status", source=RuleSetStatus.PENDING_APPROVAL, target=RuleSetStatus.ACTIVE)
    def approve(self, *, by: "User | None", at: datetime, note: str) -> None:
        self.approved_by = by
        self.approved_at = at
        self.review_note = note[:500]

    @transition(field="status", source=RuleSetStatus.PENDING_APPROVAL, target=RuleSetStatus.DRAFT)
    def reject(self, *, note: str) -> None:
        self.review_note = note[:500]
        self.submitted_by = None
        self.submitted_at = None

    @transition(field="status", source=RuleSetStatus.ACTIVE, target=RuleSetStatus.RETIRED)
    def retire(self, *, at: datetime) -> None:
        self.retired_at = at
