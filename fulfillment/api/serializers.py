from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    NodeRequest,
    NodeRequestStatus,
    Shipment,
)
from oms.api.serializers import BoundedDateTimeField, StrictInputSerializer


class MessageInput(StrictInputSerializer):
    message_id = serializers.CharField(
        max_length=200,
        help_text="Your id for this message: sending it again has no second effect.",
    )


class RejectInput(MessageInput):
    reason = serializers.CharField(max_length=300)


class LineQuantityInput(StrictInputSerializer):
    line_id = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="A line id from the fulfillment order."
    )
    quantity = serializers.IntegerField(min_value=0, max_value=100_000)


class PackInput(MessageInput):
    lines = LineQuantityInput(
        many=True,
        required=False,
        max_length=500,
        help_text="Picked quantities; lines left out were picked in full.",
    )
    short_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class PackageInput(StrictInputSerializer):
    carrier = serializers.CharField(max_length=50)
    service = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=60)


class ShipInput(MessageInput):
    packages = PackageInput(many=True, allow_empty=False, max_length=100)
    lines = LineQuantityInput(
        many=True,
        required=False,
        max_length=500,
        help_text="Shipped quantities; lines left out shipped in full (what was picked).",
    )
    short_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    shipped_at = BoundedDateTimeField(required=False)


class DeliverInput(MessageInput):
    delivered_at = BoundedDateTimeField(required=False)


class FulfillmentLineOutput(serializers.ModelSerializer):
    line_id = serializers.IntegerField(source="pk")
    sku = serializers.CharField(source="order_line.sku")
    name = serializers.CharField(source="order_line.name")

    class Meta:
        model = FulfillmentOrderLine
        fields = [
            "line_id",
            "sku",
            "name",
            "quantity",
            "picked_quantity",
            "shipped_quantity",
            "short_quantity",
            "short_reason",
        ]


class ShipmentOutput(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ["carrier", "service", "tracking_number", "status", "shipped_at", "delivered_at"]


class NodeRequestOutput(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="cancel or address_change")
    status = serializers.CharField(help_text="open, confirmed or refused")
    lines = serializers.SerializerMethodField()

    class Meta:
        model = NodeRequest
        fields = ["id", "kind", "status", "reason", "lines", "ship_to", "created_at"]

    def get_lines(self, request: NodeRequest) -> list[dict[str, Any]]:
        return [
            {
                "line_id": line["fulfillment_line"],
                "sku": line["sku"],
                "quantity": line["quantity"],
            }
            for line in request.lines
        ]


class FulfillmentOutput(serializers.ModelSerializer):
    node = serializers.CharField(source="node.code")
    order_number = serializers.CharField(source="order.number")
    ship_to = serializers.SerializerMethodField()
    lines = FulfillmentLineOutput(many=True, read_only=True)
    shipments = ShipmentOutput(many=True, read_only=True)
    open_requests = serializers.SerializerMethodField(
        help_text="Cancel and address-change requests waiting for the node's answer "
        "(confirm-request / refuse-request)."
    )

    class Meta:
        model = FulfillmentOrder
        fields = [
            "number",
            "order_number",
            "node",
            "status",
            "delivery_method",
            "service_level",
            "ship_by",
            "ship_to",
            "released_at",
            "accepted_at",
            "packed_at",
            "shipped_at",
            "delivered_at",
            "close_reason",
            "lines",
            "shipments",
            "open_requests",
        ]

    @extend_schema_field(NodeRequestOutput(many=True))
    def get_open_requests(self, fo: FulfillmentOrder) -> list[dict[str, Any]]:
        requests = fo.node_requests.filter(status=NodeRequestStatus.OPEN).order_by("id")
        return list(NodeRequestOutput(requests, many=True).data)

    def get_ship_to(self, fo: FulfillmentOrder) -> dict[str, str]:
        order = fo.order
        if fo.is_pickup:
            return {"name": order.customer_name, "pickup_at": fo.node.code}
        return {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "region": order.ship_region,
            "postal_code": order.ship_postal_code,
            "country": order.ship_country,
        }


class RequestAnswerInput(MessageInput):
    request = serializers.IntegerField(help_text="The id of an open request (open_requests).")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RequestRefusalInput(RequestAnswerInput):
    code = serializers.ChoiceField(
        choices=["already_shipped", "cannot_change"],
        default="already_shipped",
        help_text="already_shipped: the parcel left; cannot_change: anything else.",
    )


class HandOverInput(MessageInput):
    pickup_code = serializers.CharField(max_length=8, help_text="The code the customer shows.")
