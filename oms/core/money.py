"""Money is a Decimal with an ISO 4217 currency. Never a float.

Currency codes and their minor units come from CLDR through Babel, so JPY has 0 decimals,
USD 2 and KWD 3. An amount with more decimals than its currency allows is refused, not rounded:
silently rounding a price a channel sent is how totals stop reconciling. Scale is read as
written: JPY "1200.00" has two decimal places and is refused like "1200.50" (ADR 4).

Every amount is stored as numeric(MAX_DIGITS, DECIMAL_PLACES), so the largest storable amount is
below 10^(MAX_DIGITS - DECIMAL_PLACES). `max_amount()` is that limit in a currency's minor units
(USD 9999999999999999.99, JPY 9999999999999999): the one bound every amount the API accepts is
checked against (`is_in_range`), line and order totals included, before anything is written.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision, list_currencies

# Stored amounts use 4 decimal places, enough for every ISO currency (max 3 minor units), and
# 16 integer digits: below 10^16, so a 10^9 USD B2B order fits in any currency, even one with
# 25,000 units to the dollar (VND). Every money column uses these (orders.models.money_field).
MAX_DIGITS = 20
DECIMAL_PLACES = 4
INTEGER_DIGITS = MAX_DIGITS - DECIMAL_PLACES


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if len(code) == 3 and code.isalpha())


def is_known_currency(code: str) -> bool:
    return code in known_currencies()


@cache
def active_currencies() -> frozenset[str]:
    """ISO 4217 codes some territory uses as legal tender today, from CLDR's territory-currency
    table (through Babel): an entry with no end date and `tender` set. That leaves out, as an
    order's currency should, the codes ISO lists that are not money you can be paid in: funds
    (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals (XAU, XAG, XPD, XPT), bond
    units (XBA–XBD), XDR, XSU, XUA, the test code XTS and "no currency" XXX; and every withdrawn
    currency (DEM, HRK, ...). About 150 codes; it follows CLDR as Babel is upgraded."""
    territory_currencies = get_global("territory_currencies")
    return frozenset(
        code
        for rows in territory_currencies.values()
        for code, _start, end, tender in rows
        if end is None and tender
    )


def is_active_currency(code: str) -> bool:
    """True for a currency an order may be in (see `active_currencies`)."""
    return code in active_currencies()


@cache
def minor_units(currency: str) -> int:
    return int(get_currency_precision(currency))


def decimal_places_of(amount: Decimal) -> int:
    """Decimal places as written: "1200.00" has 2, "1.2E+3" has 0."""
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def has_valid_scale(amount: Decimal, currency: str) -> bool:
    """At most the currency's minor units, trailing zeros included: JPY "1200.00" is refused."""
    return decimal_places_of(amount) <= minor_units(currency)


@cache
def max_amount(currency: str) -> Decimal:
    """The largest amount the schema stores, in the currency's minor units."""
    places = minor_units(currency)
    return Decimal(10) ** INTEGER_DIGITS - Decimal(1).scaleb(-places)


def is_in_range(amount: Decimal, currency: str) -> bool:
    """Storable: finite and no larger in size than `max_amount(currency)`."""
    return amount.is_finite() and amount.copy_abs() <= max_amount(currency)


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount with exactly the currency's minor units, as a JSON-safe string."""
    return str(amount.quantize(Decimal(1).scaleb(-minor_units(currency))))


def parse_amount(value: object) -> Decimal | None:
    """A Decimal from a JSON string or integer; None when it is not a finite number.

    JSON floats are refused by the API's serializers before they get here: 0.1 + 0.2 is not a
    price.
    """
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        if not is_known_currency(self.currency):
            raise ValueError(f"unknown currency {self.currency!r}")

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError("cannot add amounts in different currencies")
        return Money(self.amount + other.amount, self.currency)

    def quantized(self) -> "Money":
        exponent = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(self.amount.quantize(exponent), self.currency)

    def __str__(self) -> str:
        return f"{self.quantized().amount} {self.currency}"
