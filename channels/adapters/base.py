"""The adapter contract: what every platform adapter provides (docs/channels.md).

In: `verify()` checks a webhook's signature over the raw body; `notices()` reads a webhook into
notices (what it is about, the platform's delivery id and order id); `order_input()` turns the
platform's order into the canonical `OrderInput` that `capture_order()` takes, the one the API
uses too. A mapping it cannot make (no SKU for a product, no address) raises `MappingError`
with a code; the inbound service keeps the message refused under that code.

Out: `send()` turns one outbox row (fulfill, cancel, refund, return_received) into the
platform's calls through the channel's `Client`, raising `CallFailed` when the platform refuses.

The idempotency key of an order is (channel, platform order id): the order's external id,
unique per channel (orders.Order). A webhook is logged in the inbound message log under the
platform's delivery id, so a redelivery is recognised before anything is parsed again.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from oms.core.errors import DomainError
from oms.core.money import is_known_currency, minor_units
from orders.services.capture import AddressInput, LineInput, OrderInput

if TYPE_CHECKING:
    from channels.http import Client
    from channels.models import ChannelConnection, OutboundCall


class MappingError(DomainError):
    """The platform's order cannot become an oms order as it stands (a person fixes the mapping
    or the catalogue, then re-processes the kept message)."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(code=code, detail=detail, http_status=422, extra=extra)


class PayloadInvalid(DomainError):
    """The body is not what the platform sends (not JSON, no order in it): 400."""

    def __init__(self, detail: str) -> None:
        super().__init__(code="invalid_payload", detail=detail, http_status=400)


class CallFailed(Exception):
    """The platform refused or failed a call back. `retryable`: a later attempt may succeed
    (5xx, 429, a network error); a 4xx other than 408/409/429 will not."""

    def __init__(self, detail: str, *, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(detail)
        self.detail, self.status, self.retryable = detail, status, retryable


class Topic:
    ORDER = "order"  # created or updated: capture it if new
    CANCELLED = "cancelled"
    REFETCH = "refetch"  # the notice names an order that changed: read it from the platform
    REFUND = "refund"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Notice:
    """One thing a webhook tells us."""

    topic: str
    delivery_id: str  # the platform's id of this delivery (or a digest of the body)
    external_id: str  # the platform's order id
    payload: dict[str, Any] = field(default_factory=dict)


class Adapter:
    platform: ClassVar[str]
    # Actions it sends back to the platform (others are skipped: nothing to tell it).
    actions: ClassVar[frozenset[str]] = frozenset()
    # Its `refund` makes the platform pay the money back through its own gateway, so an order
    # that came in paid there can be refunded in oms (orders/payments/held.py, ADR 14).
    refunds_held_payments: ClassVar[bool] = False

    def verify(self, raw: bytes, headers: dict[str, str], secret: str) -> bool:
        raise NotImplementedError

    def notices(self, raw: bytes, headers: dict[str, str]) -> list[Notice]:
        raise NotImplementedError

    def order_input(self, payload: dict[str, Any], settings: dict[str, Any]) -> OrderInput:
        raise NotImplementedError

    def on_captured(
        self, connection: "ChannelConnection", order: Any, payload: dict[str, Any]
    ) -> None:
        """After capture, in its transaction (the EDI adapter queues its 855 here)."""

    def is_cancelled(self, payload: dict[str, Any]) -> bool:
        """Does the platform's order say it is cancelled (an update that cancels it)?"""
        return False

    def send(self, client: "Client", call: "OutboundCall") -> dict[str, Any]:
        raise NotImplementedError

    def auth_headers(self, connection: "ChannelConnection") -> dict[str, str]:
        return {}

    def authenticate(self, client: "Client", connection: "ChannelConnection") -> None:
        """Set the client's credentials headers (a platform with a token flow calls it here)."""
        client.headers = self.auth_headers(connection)

    def fetch_order(
        self, client: "Client", connection: "ChannelConnection", external_id: str
    ) -> dict[str, Any]:
        """The platform's current order (for notices that only name it)."""
        raise CallFailed(f"{self.platform} orders are not fetched", retryable=False)

    def poll(self, client: "Client", connection: "ChannelConnection") -> tuple[list[Notice], str]:
        """Orders changed since the connection's cursor, and the cursor after them."""
        raise CallFailed(f"{self.platform} is not polled", retryable=False)

    # A cheap authenticated read for "test connection" (relative to the base URL).
    ping_path: ClassVar[str] = ""

    def ping(self, client: "Client", connection: "ChannelConnection") -> None:
        client.request("GET", self.ping_path)


_ADAPTERS: dict[str, Adapter] = {}


def register_adapter(adapter: Adapter) -> Adapter:
    _ADAPTERS[adapter.platform] = adapter
    return adapter


def adapter_for(platform: str) -> Adapter | None:
    return _ADAPTERS.get(platform)


# --- helpers the mappers share --------------------------------------------------------------


def load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadInvalid(f"The body is not JSON ({exc}).") from None


def money(value: Any, currency: str) -> Decimal:
    """A platform amount ("199.00", 3, Decimal) as a Decimal at the currency's minor units.
    Platforms send more places than the currency has only for intermediate values; an amount
    that does not round exactly is refused rather than silently changed."""
    if value is None or value == "":
        return Decimal("0")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MappingError("invalid_amount", f"{value!r} is not an amount.") from None
    if not is_known_currency(currency):
        return amount  # capture refuses the currency with its own code
    places = Decimal(1).scaleb(-minor_units(currency))
    rounded = amount.quantize(places, rounding=ROUND_HALF_UP)
    if rounded != amount:
        raise MappingError(
            "invalid_money_scale", f"{value} has more places than {currency} allows."
        )
    return rounded


def cents(value: dict[str, Any]) -> tuple[Decimal, str]:
    """A commercetools-style {centAmount, fractionDigits, currencyCode} money."""
    digits = int(value.get("fractionDigits", 2))
    return Decimal(int(value["centAmount"])).scaleb(-digits), str(value["currencyCode"])


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split an order-level amount (tax stated only on the order) over the lines in proportion
    to their value, to the currency's minor unit, largest remainders first: the parts add up to
    the total exactly."""
    if not weights or total == 0:
        return [Decimal("0")] * len(weights)
    unit = Decimal(1).scaleb(-minor_units(currency)) if is_known_currency(currency) else Decimal(1)
    base = sum(weights, Decimal("0"))
    if base == 0:
        weights, base = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [total * w / base for w in weights]
    floors = [(s // unit) * unit for s in shares]
    left = int((total - sum(floors, Decimal("0"))) / unit)
    order = sorted(range(len(shares)), key=lambda i: shares[i] - floors[i], reverse=True)
    for i in order[:left]:
        floors[i] += unit
    return floors


def resolve_sku(settings: dict[str, Any], *keys: Any) -> str:
    """The oms SKU of a platform line: the channel's `sku_map` by each key in turn (the
    platform's SKU, then its product or variant ids), else the platform's SKU itself. Empty when
    the line has neither a SKU nor a mapped id."""
    sku_map: dict[str, str] = settings.get("sku_map") or {}
    for key in keys:
        if key not in (None, "") and str(key) in sku_map:
            return sku_map[str(key)]
    first = keys[0] if keys else ""
    return str(first) if first not in (None, "") else ""


def require_sku(sku: str, where: str, what: str) -> str:
    if not sku:
        raise MappingError(
            "unknown_sku",
            f"{where} has no SKU and {what} is not in the channel's sku_map.",
            line=where,
        )
    return sku


def parse_time(value: Any) -> datetime:
    """ISO 8601 with or without an offset (a naive one is UTC, as WooCommerce's *_gmt)."""
    if not value:
        return datetime.now(UTC)
    text = str(value).replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError("invalid_date", f"{value!r} is not a date and time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def address(
    *,
    name: str,
    line1: str,
    line2: str = "",
    city: str,
    region: str = "",
    postal_code: str,
    country: str,
) -> AddressInput | None:
    if not (line1 or city or country):
        return None
    return AddressInput(
        name=name.strip()[:200],
        line1=(line1 or "")[:200],
        line2=(line2 or "")[:200],
        city=(city or "")[:100],
        region=(region or "")[:100],
        postal_code=(postal_code or "")[:20],
        country=(country or "").strip(),
    )


__all__ = [
    "AddressInput",
    "Adapter",
    "CallFailed",
    "LineInput",
    "MappingError",
    "Notice",
    "OrderInput",
    "PayloadInvalid",
    "Topic",
]
