"""Money is a Decimal with an ISO 4217 currency. Never a float.

Currency codes and their minor units come from CLDR through Babel, so JPY has 0 decimals,
USD 2 and KWD 3. An amount with more decimals than its currency allows is refused, not rounded:
silently rounding a price a channel sent is how totals stop reconciling.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

# Stored amounts use 4 decimal places, enough for every ISO currency (max 3 minor units).
MAX_DIGITS = 14
DECIMAL_PLACES = 4


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if len(code) == 3 and code.isalpha())


def is_known_currency(code: str) -> bool:
    return code in known_currencies()


@cache
def minor_units(currency: str) -> int:
    return int(get_currency_precision(currency))


def decimal_places_of(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def has_valid_scale(amount: Decimal, currency: str) -> bool:
    return decimal_places_of(amount) <= minor_units(currency)


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
