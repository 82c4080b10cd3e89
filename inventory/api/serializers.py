"""Input serializers check shape and types; the feed services check meaning (nodes, SKUs,
negative stock). Output serializers render service and selector results; nothing here writes."""

from typing import Any

from rest_framework import serializers

from inventory.models import FeedStatus
from inventory.selectors import Availability, ServingNode
from inventory.services.feeds import build_snapshot_counts
from oms.api.renderers import PreRenderedJSON, json_bool, json_float, json_str
from oms.api.serializers import (
    BoundedDateTimeField,
    ReusedFieldsMixin,
    StrictInputSerializer,
)

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


class AvailabilityQueryInputSerializer(ReusedFieldsMixin, serializers.Serializer):
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


class AvailabilityJSON(PreRenderedJSON):
    """The availability answer, written directly: the bytes AvailabilityOutputSerializer and
    JSONRenderer write for the same Availability (the serializer stays the schema's source).

    A storefront calls this on every product and cart page; with 200 nodes and 3 SKUs DRF
    rendered 600 node rows field by field, most of the request's time (docs/performance.md).
    The serving nodes' rows are written once per serving list (_nodes_template), and each
    SKU's units are put into them with one `%` formatting.
    tests/inventory/test_inventory_api.py checks the bytes equal the serializer's."""

    def __init__(self, availability: Availability) -> None:
        self.availability = availability

    def as_data(self) -> Any:
        return AvailabilityOutputSerializer(self.availability).data

    def render(self) -> str:
        answer = self.availability
        location = answer.location
        nodes = _nodes_template(answer.serving)
        items = [
            f'{{"sku":{json_str(str(item.sku))},"is_active":{json_bool(item.is_active)}'
            f',"network_available":{int(item.network_available)},"nodes":['
            # every node's row, with its units put in by one C call (%d writes int(value), as
            # IntegerField does; the selector's tuple as it is: tuple() of a tuple is itself)
            + nodes % tuple(item.available)
            + "]}"
            for item in answer.items
        ]
        where = (
            "null"
            if location is None
            else f'{{"latitude":{json_float(location.latitude)}'
            f',"longitude":{json_float(location.longitude)}'
            f',"state":{json_str(str(location.state))}}}'
        )
        return (
            f'{{"postal_code":{json_str(str(answer.postal_code))}'
            f',"country":{json_str(str(answer.country))},"location":{where}'
            f',"pickup_radius_miles":{json_float(answer.pickup_radius_miles)}'
            f',"items":[{",".join(items)}]}}'
        )


# Serving lists' templates by the list's identity: get_availability hands every request for
# the same address the same tuple while the node network is unchanged (inventory/selectors.py),
# so its template is written once. The entry holds the tuple, so its id cannot be reused while
# it is kept; dropped all at once past _MAX_TEMPLATES.
_templates: dict[int, tuple[tuple[ServingNode, ...], str]] = {}
_MAX_TEMPLATES = 512


def _nodes_template(serving: tuple[ServingNode, ...]) -> str:
    """The "nodes" array's rows of a serving list with a %d where each node's `available`
    goes (a literal % doubled): a pure function of the nodes' values, no stock figure."""
    kept = _templates.get(id(serving))
    if kept is not None and kept[0] is serving:
        return kept[1]
    template = ",".join(
        head.replace("%", "%%") + "%d" + tail.replace("%", "%%")
        for head, tail in map(_node_json, serving)
    )
    if len(_templates) >= _MAX_TEMPLATES:
        _templates.clear()
    _templates[id(serving)] = (serving, template)
    return template


def _node_json(node: ServingNode) -> tuple[str, str]:
    """A serving node's row around its `available`."""
    distance = "null" if node.distance_miles is None else json_float(node.distance_miles)
    return (
        f'{{"node":{json_str(str(node.node))},"kind":{json_str(str(node.kind))},"available":',
        f',"distance_miles":{distance},"can_ship":{json_bool(node.can_ship)}'
        f',"can_pickup":{json_bool(node.can_pickup)}}}',
    )
