"""The return label: bought through the carrier adapter when a return is authorized and the
customer ships it back (not for a parcel the carrier is already bringing back).

EasyPost (integrations/carriers/easypost_labels.py) when `OMS_EASYPOST_API_KEY` is set, else the
simulated carrier. The carrier is called outside any transaction; the label is then recorded
under the order's lock with `return.label_created`. Idempotent: a return that has a label keeps
it (and the simulated carrier and EasyPost's reference key on the RMA number).
"""

from django.conf import settings
from django.db import transaction

from integrations.carriers import Address, LabelRequest, Parcel, SimulatedCarrier
from integrations.carriers.base import CarrierError
from integrations.carriers.easypost_labels import EasyPostLabels, ReturnLabel
from inventory.models import Node
from oms.core.actors import Actor
from oms.core.errors import DomainError
from orders.locks import lock_order
from returns.events import RETURN_LABEL_CREATED
from returns.locks import lock_return
from returns.models import RECEIVABLE_STATUSES, Return, ReturnLine, ReturnSource
from returns.services.common import record

SIMULATED = SimulatedCarrier()
DEFAULT_UNIT_GRAMS = 500
NO_LABEL_SOURCES = (ReturnSource.RETURNED_TO_SENDER,)


class LabelNotBought(DomainError):
    def __init__(self, exc: CarrierError) -> None:
        super().__init__(
            code="return_label_not_bought",
            detail=f"The carrier did not sell a return label ({exc.code}). Try again later.",
            http_status=503 if exc.__class__.__name__ == "CarrierUnavailable" else 422,
        )


def needs_label(rma: Return) -> bool:
    return (
        rma.source not in NO_LABEL_SOURCES
        and rma.return_node_id is not None
        and rma.order.delivery_method == "ship"
        and not rma.tracking_number
        and rma.status in RECEIVABLE_STATUSES
    )


def _request(rma: Return) -> LabelRequest:
    order = rma.order
    node = Node.objects.get(pk=rma.return_node_id or 0)  # needs_label() checked there is one
    grams = sum(
        (line.order_line.product.weight_grams or DEFAULT_UNIT_GRAMS) * line.quantity
        for line in ReturnLine.objects.filter(rma=rma).select_related("order_line__product")
    )
    return LabelRequest(
        reference=rma.number,
        ship_from=Address(
            name=order.ship_name or order.customer_name,
            line1=order.ship_line1,
            line2=order.ship_line2,
            city=order.ship_city,
            region=order.ship_region,
            postal_code=order.ship_postal_code,
            country=order.ship_country or "US",
            phone=order.customer_phone,
        ),
        ship_to=Address(
            name=node.name,
            line1=node.address_line1 or node.name,
            city=node.city or node.code,
            region=node.region,
            postal_code=node.postal_code or "00000",
            country=node.country,
        ),
        service_level="standard",
        parcels=(Parcel(weight_grams=max(grams, 1)),),
    )


def _buy(request: LabelRequest) -> tuple[ReturnLabel, bytes]:
    if settings.OMS_EASYPOST_API_KEY:
        carrier = EasyPostLabels(
            api_key=settings.OMS_EASYPOST_API_KEY, base_url=settings.OMS_EASYPOST_API_URL
        )
        return carrier.buy_return_label(request), b""
    [label] = SIMULATED.buy_labels(request)
    return ReturnLabel(label=label, label_url="", shipment_id=""), label.label_pdf


def create_return_label(*, return_id: int, actor: Actor) -> Return:
    """Buy and record the return's label (see the module docstring). `return_label_not_bought`
    when the carrier times out or refuses: nothing is recorded, the caller may retry."""
    rma = Return.objects.select_related("order", "return_node").get(pk=return_id)
    if not needs_label(rma):
        return rma
    try:
        bought, pdf = _buy(_request(rma))
    except CarrierError as exc:
        raise LabelNotBought(exc) from exc
    with transaction.atomic():
        order = lock_order(rma.order_id)
        rma = lock_return(return_id)
        if rma.tracking_number:
            return rma
        label = bought.label
        rma.label_carrier = label.carrier[:50]
        rma.label_service = label.service[:50]
        rma.tracking_number = label.tracking_number[:60]
        rma.label_url = bought.label_url[:500]
        rma.label_pdf = pdf or None
        rma.label_cost = label.cost
        rma.save(
            update_fields=[
                "label_carrier",
                "label_service",
                "tracking_number",
                "label_url",
                "label_pdf",
                "label_cost",
                "updated_at",
            ]
        )
        record(
            order,
            rma,
            RETURN_LABEL_CREATED,
            actor,
            {
                "carrier": label.carrier,
                "service": label.service,
                "tracking_number": label.tracking_number,
                "cost": str(label.cost),
                "currency": label.currency,
                "label_url": bought.label_url or None,
            },
        )
    return rma
