"""Cutover API: the channel's current plan, and the legacy feed's mirrored orders."""

import dataclasses
from typing import Any

from rest_framework import serializers

from migration.models import CutoverMode
from migration.services.legacy_cancellation import LegacyLineCancel
from migration.services.shadow import LegacyAllocation
from oms.api.serializers import StrictInputSerializer
from orders.api.serializers import OrderCreateInputSerializer
from orders.services.capture import OrderInput


class CutoverStatusOutputSerializer(serializers.Serializer):
    channel = serializers.CharField()
    mode = serializers.ChoiceField(choices=CutoverMode.choices)
    share_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="The share of new orders oms owns: 0 (legacy, shadow), the canary's, 100 (oms).",
    )
    narrowing = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    version = serializers.IntegerField(allow_null=True, help_text="Null: no plan (oms owns all).")
    approved_at = serializers.DateTimeField(allow_null=True)
    pending = serializers.SerializerMethodField()

    def get_pending(self, status: Any) -> dict[str, Any] | None:
        plan = status.pending
        if plan is None:
            return None
        return {
            "version": plan.version,
            "mode": plan.mode,
            "share_percent": str(plan.share_percent),
        }


class LegacyAllocationInputSerializer(StrictInputSerializer):
    node = serializers.CharField(max_length=50)
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class LegacyDecisionInputSerializer(StrictInputSerializer):
    allocations = LegacyAllocationInputSerializer(many=True, max_length=500)


class LegacyOrderInputSerializer(OrderCreateInputSerializer):
    """An order the legacy system took, with what it decided (its node per SKU)."""

    legacy_decision = LegacyDecisionInputSerializer(required=False)

    def to_order_input(self) -> OrderInput:
        return dataclasses.replace(super().to_order_input(), legacy_mirror=True)

    def allocations(self) -> list[LegacyAllocation]:
        decision = self.validated_data.get("legacy_decision") or {}
        return [LegacyAllocation(**a) for a in decision.get("allocations", [])]


class LegacyCancelLineInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class LegacyCancelInputSerializer(StrictInputSerializer):
    """The legacy system cancelled a mirrored order: every line (no `lines`) or some units."""

    lines = LegacyCancelLineInputSerializer(many=True, required=False, max_length=500)
    reason = serializers.CharField(max_length=150, required=False)

    def cancellations(self) -> list[LegacyLineCancel] | None:
        lines = self.validated_data.get("lines")
        return None if not lines else [LegacyLineCancel(**line) for line in lines]
