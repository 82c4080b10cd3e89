"""Input serializers check shape and types; the feed services check meaning (nodes, SKUs,
negative stock). Output serializers render service and selector results; nothing here writes."""

from typing import Any

from rest_framework import serializers

from inventory.models import FeedStatus
from inventory.services.feeds import build_snapshot_counts
from oms.api.serializers import BoundedDateTimeField, StrictInputSerializer

# Stock figures are int4 columns; one message may count or move at most 10^8 units of a SKU
# (a 2^62 delta was a 500 from PostgreSQL), far below 2^31 - 1 and far above any real count.
MAX_UNITS = 100_000_000


class SnapshotCountInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    on_hand = serializers.IntegerField(
        min_value=-MAX_UNITS,
        max_value=MAX_UNITS,
        help_text="Units counted. Negative counts are refused.",
    )


class SnapshotInputSerializer(StrictInputSerializer):
    node = serializers.CharField(max_length=32, help_text="Node code, e.g. dc-columbus.")
    message_id = serializers.CharField(
        max_length=100, help_text="Unique per message from this node: a resend is a duplicate."
    )
    as_of = BoundedDateTimeField(help_text="When the count was taken (ISO 8601).")
    counts = SnapshotCountInputSerializer(
        many=True,
        max_length=20_000,
        help_text="The FULL count: every product of the node that is not listed counts 0.",
    )

    def to_counts(self) -> dict[str, int]:
        return build_snapshot_counts(
            [(row["sku"], row["on_hand"]) for row in self.validated_data["counts"]]
        )


class AdjustmentLineInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    delta = serializers.IntegerField(
        min_value=-MAX_UNITS,
        max_value=MAX_UNITS,
        help_text="Units to add (positive) or remove (negative).",
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AdjustmentInputSerializer(StrictInputSerializer):
    node = serializers.CharField(max_length=32)
    message_id = serializers.CharField(max_length=100)
    lines = AdjustmentLineInputSerializer(many=True, max_length=5_000)

    def to_lines(self) -> list[tuple[str, int, str]]:
        return [
            (line["sku"], line["delta"], line["reason"]) for line in self.validated_data["lines"]
        ]


class StockChangeOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    on_hand_before = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class OversellOutputSerializer(serializers.Serializer):
    oversell_id = serializers.IntegerField()
    sku = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    shortfall = serializers.IntegerField()


class FeedResultOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FeedStatus.choices)
    kind = serializers.CharField(help_text="snapshot or adjustment")
    node = serializers.CharField()
    message_id = serializers.CharField()
    duplicate = serializers.BooleanField()
    detail = serializers.CharField()
    changed = StockChangeOutputSerializer(many=True)
    oversells = OversellOutputSerializer(many=True)


class AvailabilityQueryInputSerializer(serializers.Serializer):
    sku = serializers.ListField(
        child=serializers.CharField(max_length=64),
        allow_empty=False,
        help_text="Repeat: ?sku=A&sku=B",
    )
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="US")


class LocationOutputSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    state = serializers.CharField()


class NodeAvailabilityOutputSerializer(serializers.Serializer):
    node = serializers.CharField()
    kind = serializers.CharField(help_text="distribution_center, warehouse, store, 3pl or dropship")
    available = serializers.IntegerField()
    distance_miles = serializers.FloatField(allow_null=True)
    can_ship = serializers.BooleanField()
    can_pickup = serializers.BooleanField(help_text="A pickup node within the pickup radius.")


class SkuAvailabilityOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    is_active = serializers.BooleanField()
    network_available = serializers.IntegerField(
        help_text="Σ max(available, 0) over active nodes that ship."
    )
    nodes = NodeAvailabilityOutputSerializer(many=True)


class AvailabilityOutputSerializer(serializers.Serializer):
    postal_code = serializers.CharField()
    country = serializers.CharField()
    location = LocationOutputSerializer(allow_null=True)
    pickup_radius_miles = serializers.FloatField()
    items = SkuAvailabilityOutputSerializer(many=True)


def availability_payload(availability: Any) -> dict[str, Any]:
    """What AvailabilityOutputSerializer(availability).data renders, built directly: the same
    keys in the same order and the same JSON types (str, int, float, bool, null). A storefront
    calls this on every product and cart page; with 200 nodes and 3 SKUs DRF rendered 600 node
    rows field by field, most of the request's time (docs/performance.md).
    tests/inventory/test_availability_payload.py checks it equals the serializer's output."""
    location = availability.location
    return {
        "postal_code": str(availability.postal_code),
        "country": str(availability.country),
        "location": (
            None
            if location is None
            else {
                "latitude": float(location.latitude),
                "longitude": float(location.longitude),
                "state": str(location.state),
            }
        ),
        "pickup_radius_miles": float(availability.pickup_radius_miles),
        "items": [
            {
                "sku": str(item.sku),
                "is_active": bool(item.is_active),
                "network_available": int(item.network_available),
                "nodes": [
                    {
                        "node": str(row.node),
                        "kind": str(row.kind),
                        "available": int(row.available),
                        "distance_miles": (
                            None if row.distance_miles is None else float(row.distance_miles)
                        ),
                        "can_ship": bool(row.can_ship),
                        "can_pickup": bool(row.can_pickup),
                    }
                    for row in item.nodes
                ],
            }
            for item in availability.items
        ],
    }
