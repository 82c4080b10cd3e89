"""The ERP outbox: one `ErpDocument` per invoice (a shipment's charge) or credit memo (a refund).

A document's `number` is derived from what it is about (`INV-<fulfillment order number>`,
`CM-<refund id>`) and unique, so an event handled twice, a replay or a race can never make a
second invoice for one shipment or a second credit memo for one refund. The body is the
document as it was when the charge or refund happened (JSON, amounts as strings with the
currency's minor units); erp/transport.py sends it as JSON or renders it as an X12 810.
"""

from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from orders.models import money_field


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_MEMO = "credit_memo", "Credit memo"


class DocumentFormat(models.TextChoices):
    JSON = "json", "JSON"
    X12 = "x12", "X12 810"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead (needs a person)"


class ErpDocument(FSMModelMixin, models.Model):
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    number = models.CharField(max_length=30, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(
        "events.Event", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    reference = models.CharField(
        max_length=40, help_text="The fulfillment order invoiced, or the refund credited."
    )
    payment_transaction_id = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = money_field()
    tax = money_field()
    format = models.CharField(max_length=4, choices=DocumentFormat.choices)
    body = models.JSONField(encoder=DjangoJSONEncoder)
    # Written only by erp/services.py, through the transitions below.
    status = FSMField(
        max_length=8,
        choices=DocumentStatus.choices,
        default=DocumentStatus.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    target = models.CharField(max_length=300, blank=True, help_text="Where it was delivered.")
    response = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "ERP document"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="erpdoc_amount_gte_0")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="erpdoc_due_idx",
            ),
            models.Index(fields=["created_at"], name="erpdoc_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} ({self.status})"

    @transition(field=status, source=DocumentStatus.PENDING, target=DocumentStatus.SENT)
    def delivered(self, *, at: datetime, target: str, status_code: int | None) -> None:
        self.sent_at = at
        self.target = target[:300]
        self.last_status_code = status_code
        self.last_error = ""
        self.next_attempt_at = None

    @transition(field=status, source=DocumentStatus.PENDING, target=DocumentStatus.DEAD)
    def give_up(self) -> None:
        self.next_attempt_at = None

    @transition(field=status, source=DocumentStatus.DEAD, target=DocumentStatus.PENDING)
    def retry(self, *, at: datetime) -> None:
        self.attempts = 0
        self.next_attempt_at = at
