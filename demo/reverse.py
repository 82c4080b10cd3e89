"""Demo of the reverse flow for `make run`: an order customer service cancelled (its payment
authorization is voided once the seed commits) and one where the customer cancelled 1 of 3
units before release (the warehouse ships 2, and the capture charges 2). Every shipped demo order
shows its payment transactions on the order page. Placed once, through the services the API and
the admin call."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from demo.catalogue import LIMITED_EDITION_SKU
from fulfillment.services.order_cancellation import cancel_line_units, cancel_order
from inventory.models import Product
from oms.core.actors import Actor
from orders.models import Channel, Order
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order

PREFIX = "REV-DEMO-"
CAPTURE = Actor.system("seed_demo")
CUSTOMER_SERVICE = Actor.system("customer service (demo)")
COLUMBUS = AddressInput(
    name="Tim Berners-Lee",
    line1="200 Main Street",
    city="Columbus",
    region="OH",
    postal_code="43215",
    country="US",
)


def place_reverse_demo_orders() -> int:
    """Returns how many orders were placed now (0 when they exist)."""
    if Order.objects.filter(external_id__startswith=PREFIX).exists():
        return 0
    web = Channel.objects.get(code="web")
    sku = (
        Product.objects.filter(is_active=True)
        .exclude(sku=LIMITED_EDITION_SKU)
        .order_by("sku")
        .values_list("sku", flat=True)
        .first()
    )
    if sku is None:
        return 0
    now = timezone.now()
    cancelled = _place(web, "0001", sku, 2, now - timedelta(minutes=30))
    cancel_order(
        order_id=cancelled.pk,
        actor=CUSTOMER_SERVICE,
        reason="customer called: ordered the wrong size",
    )
    partial = _place(web, "0002", sku, 3, now - timedelta(minutes=20))
    cancel_line_units(
        order_id=partial.pk,
        line_number=1,
        quantity=1,
        actor=CUSTOMER_SERVICE,
        reason="customer wants two, not three",
    )
    return 2


def _place(channel: Channel, suffix: str, sku: str, quantity: int, placed: datetime) -> Order:
    return capture_order(
        channel=channel,
        data=OrderInput(
            external_id=f"{PREFIX}{suffix}",
            placed_at=placed,
            currency="USD",
            customer_name=COLUMBUS.name,
            customer_email="tim@example.com",
            shipping_address=COLUMBUS,
            lines=[LineInput(sku=sku, quantity=quantity, unit_price=Decimal("19.99"))],
            shipping_total=Decimal("5.99"),
            payment_status="authorized",
            payment_method="card",
            payment_reference=f"auth_rev_{suffix}",
        ),
        actor=CAPTURE,
    )
