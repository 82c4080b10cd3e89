"""What the returns sweeper re-derives from the database (the broker may lose a message)."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from returns.models import ExchangeKind, Refund, RefundStatus, Return, ReturnStatus

# An inspected return's refund task normally runs within seconds; after this long it was lost.
GRACE = timedelta(minutes=10)


def find_due_refunds(now: datetime | None = None) -> list[int]:
    """Inspected returns without an exchange and without a refund, inspected over GRACE ago,
    and returns whose refund is pending past GRACE (the provider never answered), as of `now`
    (default: this moment)."""
    cutoff = (now or timezone.now()) - GRACE
    no_refund = Return.objects.filter(
        status=ReturnStatus.INSPECTED, inspected_at__lt=cutoff, exchange_kind=ExchangeKind.NONE
    ).exclude(Exists(Refund.objects.filter(rma=OuterRef("pk"))))
    stuck = Refund.objects.filter(
        status=RefundStatus.PENDING, rma__isnull=False, updated_at__lt=cutoff
    ).values_list("rma_id", flat=True)
    return sorted(set(no_refund.values_list("id", flat=True)) | {i for i in stuck if i})
