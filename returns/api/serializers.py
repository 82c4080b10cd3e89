"""Return API input and output. Input serializers check shape; the services check meaning
(lines, quantities, the policy)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oms.api.serializers import StrictInputSerializer
from oms.core.money import format_amount
from returns.models import Condition, ExchangeKind, ReasonCode, Refund, Return, ReturnLine
from returns.policy import RequestedLine


class ReturnLineInputSerializer(StrictInputSerializer):
    line_number = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1)
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices)
    condition = serializers.ChoiceField(choices=Condition.choices, default=Condition.UNKNOWN)
    exchange_sku = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="For an exchange: another variant at the same price (default: the same SKU).",
    )


class ReturnCreateInputSerializer(StrictInputSerializer):
    lines = ReturnLineInputSerializer(many=True, allow_empty=False)
    exchange = serializers.ChoiceField(
        choices=[ExchangeKind.EVEN, ExchangeKind.ADVANCE],
        required=False,
        allow_null=True,
        default=None,
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    return_node = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Code of the node the parcel goes to (default: the node that shipped it).",
    )

    def requested_lines(self) -> list[RequestedLine]:
        return [
            RequestedLine(
                line_number=line["line_number"],
                quantity=line["quantity"],
                reason_code=line["reason_code"],
                condition=line["condition"],
                exchange_sku=line["exchange_sku"],
            )
            for line in self.validated_data["lines"]
        ]


class ReturnCancelInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReturnLineOutputSerializer(serializers.ModelSerializer):
    line_number = serializers.IntegerField(source="order_line.line_number")
    sku = serializers.CharField(source="order_line.sku")
    dispositions = serializers.SerializerMethodField()

    class Meta:
        model = ReturnLine
        fields = [
            "line_number",
            "sku",
            "quantity",
            "reason_code",
            "condition_reported",
            "received_quantity",
            "reported_damaged_quantity",
            "dispositions",
        ]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_dispositions(self, line: ReturnLine) -> dict[str, int]:
        return {k: v for k, v in line.disposition_counts().items() if v}


class RefundOutputSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField()
    amount = serializers.SerializerMethodField()
    order = serializers.CharField(source="order.number")
    rma = serializers.CharField(source="rma.number", allow_null=True, default=None)

    class Meta:
        model = Refund
        fields = [
            "id",
            "order",
            "rma",
            "kind",
            "status",
            "amount",
            "currency",
            "reason_code",
            "breakdown",
            "error_code",
            "error_message",
            "provider_reference",
            "created_at",
            "refunded_at",
        ]

    def get_amount(self, refund: Refund) -> str:
        return format_amount(refund.amount, refund.currency)


class ReturnOutputSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    policy_version = serializers.IntegerField(source="policy.version")
    return_node = serializers.CharField(source="return_node.code", allow_null=True, default=None)
    received_node = serializers.CharField(
        source="received_node.code", allow_null=True, default=None
    )
    lines = ReturnLineOutputSerializer(many=True)
    label = serializers.SerializerMethodField()
    exchange = serializers.SerializerMethodField()
    refunds = RefundOutputSerializer(many=True)

    class Meta:
        model = Return
        fields = [
            "number",
            "order",
            "status",
            "source",
            "policy_version",
            "return_node",
            "received_node",
            "lines",
            "label",
            "exchange",
            "refunds",
            "refused_reason",
            "created_at",
            "authorized_at",
            "received_at",
            "inspected_at",
            "closed_at",
        ]

    @extend_schema_field({"type": "object", "nullable": True})
    def get_label(self, rma: Return) -> dict[str, Any] | None:
        if not rma.tracking_number:
            return None
        return {
            "carrier": rma.label_carrier,
            "service": rma.label_service,
            "tracking_number": rma.tracking_number,
            "url": rma.label_url or None,
        }

    @extend_schema_field({"type": "object", "nullable": True})
    def get_exchange(self, rma: Return) -> dict[str, Any] | None:
        exchange = getattr(rma, "exchange", None)
        if exchange is None:
            return None
        replacement = exchange.replacement_order
        return {
            "kind": exchange.kind,
            "status": exchange.status,
            "replacement_order": replacement.number if replacement else None,
            "value": format_amount(exchange.value, exchange.currency),
            "due_at": exchange.due_at,
        }


class ReceiptLineInputSerializer(StrictInputSerializer):
    line_number = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=0)


class ReceiptInputSerializer(StrictInputSerializer):
    message_id = serializers.CharField(
        max_length=100, help_text="The node's id of this receipt: a resend has no second effect."
    )
    lines = ReceiptLineInputSerializer(many=True, required=False)

    def received(self) -> dict[int, int] | None:
        lines = self.validated_data.get("lines")
        return None if lines is None else {line["line_number"]: line["quantity"] for line in lines}


class DispositionInputSerializer(StrictInputSerializer):
    line_number = serializers.IntegerField(min_value=1)
    restock = serializers.IntegerField(min_value=0, default=0)
    damaged = serializers.IntegerField(min_value=0, default=0)
    vendor_return = serializers.IntegerField(min_value=0, default=0)
    destroy = serializers.IntegerField(min_value=0, default=0)


class InspectionInputSerializer(StrictInputSerializer):
    lines = DispositionInputSerializer(many=True, allow_empty=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def dispositions(self) -> dict[int, dict[str, int]]:
        return {
            line["line_number"]: {
                key: line[key]
                for key in ("restock", "damaged", "vendor_return", "destroy")
                if line[key]
            }
            for line in self.validated_data["lines"]
        }
