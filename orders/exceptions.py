"""Refusals of the orders app, each with a stable code (see docs/api.md, "Errors")."""

from oms.core.errors import DomainError


class DuplicateOrder(DomainError):
    def __init__(self, *, channel_code: str, external_id: str, number: str) -> None:
        super().__init__(
            code="duplicate_order",
            detail=(
                f"Channel {channel_code} already has an order with external_id "
                f"{external_id!r}: {number}."
            ),
            http_status=409,
            extra={"number": number, "external_id": external_id},
        )


class LineErrorCode:
    UNKNOWN_SKU = "unknown_sku"
    INACTIVE_SKU = "inactive_sku"
    QUANTITY_NOT_POSITIVE = "quantity_not_positive"
    INVALID_MONEY_SCALE = "invalid_money_scale"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    DISCOUNT_EXCEEDS_PRICE = "discount_exceeds_price"


class OrderErrorCode:
    UNKNOWN_CURRENCY = "unknown_currency"
    UNKNOWN_COUNTRY = "unknown_country"
    SHIPPING_ADDRESS_REQUIRED = "shipping_address_required"
    PICKUP_NODE_REQUIRED = "pickup_node_required"
    UNKNOWN_PICKUP_NODE = "unknown_pickup_node"
    NODE_DOES_NOT_PICKUP = "node_does_not_pickup"
    NODE_DOES_NOT_CURBSIDE = "node_does_not_curbside"
    TOTAL_MISMATCH = "total_mismatch"
    CHANNEL_INACTIVE = "channel_inactive"
    HOLD_NOT_ACTIVE = "hold_not_active"
    LINE_AT_NODE = "line_at_node"
    NOT_CANCELLABLE = "not_cancellable"
    NOT_CHANGEABLE = "not_changeable"
