"""Refusals of the inventory app, each with a stable code (docs/api.md, "Errors")."""

from typing import Any

from oms.core.errors import DomainError, FieldError


class InventoryErrorCode:
    # per-field / per-line codes (in `errors[]`)
    UNKNOWN_NODE = "unknown_node"
    UNKNOWN_SKU = "unknown_sku"
    DUPLICATE_SKU = "duplicate_sku"
    NEGATIVE_COUNT = "negative_count"
    ZERO_DELTA = "zero_delta"
    ON_HAND_WOULD_GO_NEGATIVE = "on_hand_would_go_negative"
    EMPTY_SNAPSHOT = "empty_snapshot"
    EMPTY_ADJUSTMENT = "empty_adjustment"
    NAIVE_DATETIME = "naive_datetime"
    TOO_MANY_SKUS = "too_many_skus"
    # whole-request codes
    ADJUSTMENT_REFUSED = "adjustment_refused"
    MESSAGE_ID_REUSED = "message_id_reused"
    UNKNOWN_POSTAL_CODE = "unknown_postal_code"
    INVALID_QUANTITY = "invalid_quantity"
    RESERVATION_NOT_FOUND = "reservation_not_found"
    RESERVATION_RELEASED = "reservation_released"
    CONSUME_EXCEEDS_RESERVATION = "consume_exceeds_reservation"
    SHIPMENT_EXCEEDS_ON_HAND = "shipment_exceeds_on_hand"
    OVERSELL_NOT_OPEN = "oversell_not_open"
    OVERSELL_NOT_FOUND = "oversell_not_found"
    STOCK_COUNTERS_INCONSISTENT = "stock_counters_inconsistent"
    FEED_NOT_ALLOWED = "feed_not_allowed"


class AdjustmentRefused(DomainError):
    """The adjustment would leave some stock negative: nothing of it was applied."""

    def __init__(self, errors: list[FieldError]) -> None:
        noun = "line" if len(errors) == 1 else "lines"
        super().__init__(
            code=InventoryErrorCode.ADJUSTMENT_REFUSED,
            detail=(
                f"The adjustment was refused: {len(errors)} {noun} would make on-hand stock "
                "negative. Nothing was applied."
            ),
            http_status=409,
            errors=errors,
        )


class FeedNotAllowed(DomainError):
    """The API key may not send stock feeds for this node: only a node's own key may."""

    def __init__(self, *, node_code: str) -> None:
        super().__init__(
            code=InventoryErrorCode.FEED_NOT_ALLOWED,
            detail=(
                f"This API key may not send stock feeds for node {node_code!r}: feeds need "
                "that node's own key."
            ),
            http_status=403,
            extra={"node": node_code},
        )


class MessageIdReused(DomainError):
    def __init__(self, *, source: str, message_id: str) -> None:
        super().__init__(
            code=InventoryErrorCode.MESSAGE_ID_REUSED,
            detail=(
                f"Message {message_id!r} from {source!r} was already received with different "
                "content. Use a new message_id for a new message."
            ),
            http_status=409,
            extra={"message_id": message_id},
        )


class UnknownPostalCode(DomainError):
    def __init__(self, *, postal_code: str, country: str) -> None:
        super().__init__(
            code=InventoryErrorCode.UNKNOWN_POSTAL_CODE,
            detail=f"Postal code {postal_code!r} is not known in {country}.",
            http_status=400,
            extra={"postal_code": postal_code, "country": country},
        )


class InvalidQuantity(DomainError):
    def __init__(self, quantity: int, what: str = "quantity") -> None:
        super().__init__(
            code=InventoryErrorCode.INVALID_QUANTITY,
            detail=f"{what} must be a positive whole number, not {quantity!r}.",
            http_status=400,
        )


class ReservationRefused(DomainError):
    """A reservation cannot do what was asked in its current state."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(code=code, detail=detail, http_status=409, extra=extra)


class StockCountersInconsistent(DomainError):
    """A counter did not hold what the ledger and reservations say it must: a bug or a hand
    edit. The transaction is rolled back rather than pushing a counter below zero."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(
            code=InventoryErrorCode.STOCK_COUNTERS_INCONSISTENT,
            detail=detail,
            http_status=409,
            extra=extra,
        )
