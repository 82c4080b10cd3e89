"""Erasing personal data from an order's fulfillment rows (docs/security.md, "Personal data").

Fulfillment orders copy nothing personal from the order (the release payload is built from it
at release time). What they keep is the shipping label: a PDF with the recipient's name and
address, dropped here (the tracking number, carrier, cost and the stock stay)."""

from dataclasses import dataclass, field

from fulfillment.models import FulfillmentOrder, Shipment
from oms.core.transactions import require_atomic


@dataclass
class FulfillmentErasure:
    subjects: list[str] = field(default_factory=list)  # fulfillment and tracking numbers
    labels: int = 0


def erase_fulfillment_personal_data(*, order_id: int, dry_run: bool = False) -> FulfillmentErasure:
    """Drop the order's shipping label PDFs; say which numbers its messages are logged under.
    Runs in the caller's transaction, under the order's lock."""
    require_atomic("erase_fulfillment_personal_data()")
    numbers = list(
        FulfillmentOrder.objects.filter(order_id=order_id)
        .order_by("id")
        .values_list("number", flat=True)
    )
    shipments = Shipment.objects.filter(fulfillment__order_id=order_id)
    tracking = list(shipments.order_by("id").values_list("tracking_number", flat=True))
    labelled = shipments.filter(label_pdf__isnull=False)
    result = FulfillmentErasure(subjects=numbers + tracking, labels=labelled.count())
    if result.labels and not dry_run:
        labelled.update(label_pdf=None)
    return result
