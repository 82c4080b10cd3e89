"""Input serializers check shape and types; services check meaning (SKUs, nodes, totals).
Output serializers render; nothing here writes."""

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms.api.serializers import BoundedDateTimeField, ReusedFieldsMixin, StrictInputSerializer
from oms.core.money import format_amount
from oms.events.models import Event
from oms.events.redaction import Masker
from orders.models import (
    DeliveryMethod,
    Hold,
    HoldKind,
    Order,
    OrderLine,
    PaymentStatus,
    ServiceLevel,
)
from orders.services.capture import AddressInput, LineInput, OrderInput

AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": AMOUNT_PATTERN, "example": "19.99"},
            {"type": "number", "minimum": 0},
        ]
    }
)
class MoneyInput(serializers.DecimalField):
    """An amount as a JSON string ("19.99", digits only) or number; numbers with a fraction are
    parsed as Decimal, exactly. Range and scale against the currency are checked by the service,
    which knows the currency and the totals (`amount_out_of_range`, `invalid_money_scale`; limit
    in oms/core/money.py)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", None)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        if isinstance(data, str) and not re.match(AMOUNT_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class AddressInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2 code.")
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        min_value=Decimal(-90),
        max_value=Decimal(90),
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        min_value=Decimal(-180),
        max_value=Decimal(180),
    )


class CustomerInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class DeliveryInputSerializer(StrictInputSerializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices, default=DeliveryMethod.SHIP)
    service_level = serializers.ChoiceField(
        choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    pickup_node = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Node code for pickup/curbside.",
    )


class PaymentInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(
        choices=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.PAID],
        default=PaymentStatus.PENDING,
    )
    method = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class LineInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    # No min_value here: a quantity of 0 or less gets the specific `quantity_not_positive` code.
    quantity = serializers.IntegerField(max_value=100_000)
    unit_price = MoneyInput()
    discount = MoneyInput(required=False, default=Decimal("0"))
    tax = MoneyInput(required=False, default=Decimal("0"))
    external_line_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )

    def validate_quantity(self, value: int) -> int:
        if value <= 0:
            raise serializers.ValidationError(
                "Quantity must be at least 1.", code="quantity_not_positive"
            )
        return value


class HoldAtCaptureInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=HoldKind.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OrderCreateInputSerializer(ReusedFieldsMixin, StrictInputSerializer):
    """The canonical order. Amounts are decimal strings in the order's currency."""

    external_id = serializers.CharField(
        max_length=100, help_text="The channel's own order id; unique per channel."
    )
    placed_at = BoundedDateTimeField()
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        help_text="An active ISO 4217 currency, e.g. USD (funds, metals and test codes are "
        "refused: `unknown_currency`).",
    )
    customer = CustomerInputSerializer()
    delivery = DeliveryInputSerializer(required=False)
    shipping_address = AddressInputSerializer(required=False)
    billing_address = AddressInputSerializer(required=False)
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=500)
    shipping_total = MoneyInput(required=False, default=Decimal("0"))
    shipping_tax = MoneyInput(required=False, default=Decimal("0"))
    grand_total = MoneyInput(required=False, help_text="If sent, must equal the computed total.")
    payment = PaymentInputSerializer(required=False)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    holds = HoldAtCaptureInputSerializer(
        many=True,
        required=False,
        max_length=4,
        help_text='Holds to place at capture, e.g. [{"kind": "fraud"}]: nothing is '
        "released to a node until they are released.",
    )

    def to_order_input(self) -> OrderInput:
        data = self.validated_data
        delivery = data.get("delivery") or {}
        payment = data.get("payment") or {}
        address = data.get("shipping_address")
        billing = data.get("billing_address")
        return OrderInput(
            external_id=data["external_id"],
            placed_at=data["placed_at"],
            currency=data["currency"],
            customer_name=data["customer"]["name"],
            customer_email=data["customer"]["email"],
            customer_phone=data["customer"]["phone"],
            delivery_method=delivery.get("method", DeliveryMethod.SHIP),
            service_level=delivery.get("service_level", ServiceLevel.STANDARD),
            pickup_node_code=delivery.get("pickup_node", ""),
            shipping_address=AddressInput(**address) if address else None,
            billing_address={k: str(v) for k, v in billing.items()} if billing else {},
            lines=[LineInput(**line) for line in data["lines"]],
            shipping_total=data["shipping_total"],
            shipping_tax=data["shipping_tax"],
            expected_grand_total=data.get("grand_total"),
            payment_status=payment.get("status", PaymentStatus.PENDING),
            payment_method=payment.get("method", ""),
            payment_reference=payment.get("reference", ""),
            notes=data["notes"],
            holds=tuple((h["kind"], h["reason"]) for h in data.get("holds") or []),
        )


@extend_schema_field({"type": "string", "example": "19.99"})
class MoneyOutput(serializers.Field):
    """Renders with exactly the currency's minor units, read from the parent order."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        currency = self.context.get("currency") or getattr(self.parent.instance, "currency", None)
        return format_amount(value, currency) if currency else str(value)


class OrderLineOutputSerializer(serializers.ModelSerializer):
    unit_price = MoneyOutput()
    discount = MoneyOutput()
    tax = MoneyOutput()
    total = MoneyOutput()

    class Meta:
        model = OrderLine
        fields = [
            "line_number",
            "external_line_id",
            "sku",
            "name",
            "quantity",
            "cancelled_quantity",
            "unit_price",
            "discount",
            "tax",
            "total",
            "status",
        ]


class HoldOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hold
        fields = [
            "id",
            "kind",
            "reason",
            "status",
            "placed_by",
            "created_at",
            "released_by",
            "released_at",
            "release_note",
        ]


class OrderOutputSerializer(ReusedFieldsMixin, serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    subtotal = MoneyOutput()
    shipping_total = MoneyOutput()
    discount_total = MoneyOutput()
    tax_total = MoneyOutput()
    grand_total = MoneyOutput()
    customer = serializers.SerializerMethodField()
    delivery = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()
    lines = OrderLineOutputSerializer(many=True, read_only=True)
    holds = HoldOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "public_id",
            "channel",
            "external_id",
            "status",
            "placed_at",
            "currency",
            "subtotal",
            "shipping_total",
            "discount_total",
            "tax_total",
            "grand_total",
            "customer",
            "delivery",
            "shipping_address",
            "billing_address",
            "payment",
            "notes",
            "lines",
            "holds",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance: Order) -> dict[str, Any]:
        self.context["currency"] = instance.currency
        return super().to_representation(instance)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "phone": {"type": "string"},
            },
        }
    )
    def get_customer(self, order: Order) -> dict[str, str]:
        return {
            "name": order.customer_name,
            "email": order.customer_email,
            "phone": order.customer_phone,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "method": {"type": "string"},
                "service_level": {"type": "string"},
                "pickup_node": {"type": "string", "nullable": True},
            },
        }
    )
    def get_delivery(self, order: Order) -> dict[str, str | None]:
        return {
            "method": order.delivery_method,
            "service_level": order.service_level,
            "pickup_node": order.pickup_node.code if order.pickup_node else None,
        }

    @extend_schema_field({"type": "object", "nullable": True})
    def get_shipping_address(self, order: Order) -> dict[str, Any] | None:
        if not order.ship_line1:
            return None
        return {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "region": order.ship_region,
            "postal_code": order.ship_postal_code,
            "country": order.ship_country,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "status": {"type": "string"},
                "method": {"type": "string"},
                "reference": {"type": "string"},
            },
        }
    )
    def get_payment(self, order: Order) -> dict[str, str]:
        return {
            "status": order.payment_status,
            "method": order.payment_method,
            "reference": order.payment_reference,
        }


class OrderSummaryOutputSerializer(OrderOutputSerializer):
    """List rows: the header without lines and holds (one query per page, not per order)."""

    class Meta(OrderOutputSerializer.Meta):
        fields = [f for f in OrderOutputSerializer.Meta.fields if f not in ("lines", "holds")]


class EventOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="event_id")
    actor = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "seq",
            "type",
            "schema_version",
            "occurred_at",
            "actor",
            "correlation_id",
            "causation_id",
            "payload",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "id": {"type": "string"},
                "label": {"type": "string"},
            },
        }
    )
    def get_actor(self, event: Event) -> dict[str, str]:
        return {"kind": event.actor_kind, "id": event.actor_id, "label": event.actor_label}

    def to_representation(self, event: Event) -> dict[str, Any]:
        """The payload as readers may see it: secrets hidden, erased personal data masked
        (oms/events/redaction.py). Pass a `masker` in the context for many events."""
        data = super().to_representation(event)
        masker = self.context.get("masker") or Masker.for_streams([event.stream])
        data["payload"] = masker.payload(event.stream, data["payload"])
        return data
