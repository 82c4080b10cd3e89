"""A request sent to a node about work it already holds: cancel units, or ship to another
address. The node answers (confirm or refuse) through its connector's way back (the node API,
the simulated WMS); nothing changes on our side until it does. Status is a protected FSM:

    open → confirmed | refused
"""

from datetime import datetime

from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from fulfillment.models.fulfillment_orders import FulfillmentOrder
from oms.core.models import TimeStampedModel


class NodeRequestKind(models.TextChoices):
    CANCEL = "cancel", "Cancel units"
    ADDRESS_CHANGE = "address_change", "Change the shipping address"


class NodeRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for the node"
    CONFIRMED = "confirmed", "Confirmed by the node"
    REFUSED = "refused", "Refused by the node"


class NodeRequest(FSMModelMixin, TimeStampedModel):
    fulfillment = models.ForeignKey(
        FulfillmentOrder, on_delete=models.CASCADE, related_name="node_requests"
    )
    kind = models.CharField(max_length=20, choices=NodeRequestKind.choices)
    status = FSMField(
        max_length=10,
        choices=NodeRequestStatus.choices,
        default=NodeRequestStatus.OPEN,
        protected=True,
    )
    # cancel: [{"fulfillment_line": id, "order_line": id, "line_number": n, "sku": s,
    # "quantity": q}]; address_change: the new address under "ship_to".
    lines = models.JSONField(default=list, blank=True)
    ship_to = models.JSONField(default=dict, blank=True)
    scope = models.CharField(max_length=10, blank=True, help_text="order or line (cancel)")
    reason = models.CharField(max_length=300, blank=True)
    # Who asked (the cancellation is theirs, whoever confirms it).
    requested_by_kind = models.CharField(max_length=20)
    requested_by_id = models.CharField(max_length=64, blank=True)
    requested_by = models.CharField(max_length=200)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_code = models.CharField(max_length=40, blank=True)
    answer_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["fulfillment_id", "id"]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="noderequest_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def units(self) -> int:
        return sum(int(line["quantity"]) for line in self.lines)

    @transition(field=status, source=NodeRequestStatus.OPEN, target=NodeRequestStatus.CONFIRMED)
    def confirm(self, *, at: datetime, reason: str) -> None:
        self.answered_at = at
        self.answer_reason = reason[:300]

    @transition(field=status, source=NodeRequestStatus.OPEN, target=NodeRequestStatus.REFUSED)
    def refuse(self, *, at: datetime, code: str, reason: str) -> None:
        self.answered_at = at
        self.answer_code = code[:40]
        self.answer_reason = reason[:300]
