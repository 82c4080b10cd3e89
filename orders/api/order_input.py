"""The order body's fast path: the common, valid order read straight into an OrderInput.

`OrderCreateInputSerializer` costs about 0.6 ms of CPU per capture (bench/capture_profile.py):
DRF runs some forty fields, each with its empty-value checks, validators and error plumbing.
Nearly every order a channel sends is valid and uses a handful of the fields, so
`read_order_input()` checks those by hand and builds the OrderInput the serializer would build.
It answers None whenever it is not sure: an invalid value, a field it leaves to DRF (holds,
billing_address, coordinates), a string with control characters, an amount in an unusual form;
the view then runs the serializer, which produces the result or the 400 with its exact errors.
So this path never produces an error itself: every refusal still comes from the serializer,
byte for byte, and an accepted body gives the same OrderInput as the serializer's
(tests/orders/test_order_input_fast_path.py compares both on a corpus of bodies).
"""

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework.exceptions import ValidationError

from orders.api.serializers import OrderCreateInputSerializer
from orders.models import DeliveryMethod, PaymentStatus, ServiceLevel
from orders.services.capture import AddressInput, LineInput, OrderInput

_TOP = frozenset(
    {
        "external_id",
        "placed_at",
        "currency",
        "customer",
        "delivery",
        "shipping_address",
        "lines",
        "shipping_total",
        "shipping_tax",
        "grand_total",
        "payment",
        "notes",
    }
)
_REQUIRED = ("external_id", "placed_at", "currency", "customer", "lines")
_CUSTOMER = frozenset({"name", "email", "phone"})
_DELIVERY = frozenset({"method", "service_level", "pickup_node"})
_ADDRESS = frozenset({"name", "line1", "line2", "city", "region", "postal_code", "country"})
_PAYMENT = frozenset({"status", "method", "reference"})
_LINE = frozenset({"sku", "quantity", "unit_price", "discount", "tax", "external_line_id"})
_MAX_LINES = 500
_MAX_QUANTITY = 100_000

_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
# Plain decimal amounts only (no exponent, no padding): anything else goes to the serializer.
_AMOUNT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,12})?")
_ZERO = Decimal("0")


class _NotSure(Exception):
    """Leave this body to the serializer."""


def _text(value: Any, max_length: int, *, blank: bool) -> str:
    """A CharField's value: a string, trimmed, within max_length; printable characters only
    (DRF refuses NUL and surrogates; line breaks and tabs are fine but rare: the serializer
    takes those)."""
    if type(value) is not str or not value.isprintable():
        raise _NotSure
    value = value.strip()
    if len(value) > max_length or (not value and not blank):
        raise _NotSure
    return value


def _optional_text(data: dict[str, Any], key: str, max_length: int) -> str:
    return _text(data[key], max_length, blank=True) if key in data else ""


def _amount(value: Any) -> Decimal:
    """MoneyInput's value for the plain forms: "19.99" or a whole number, non-negative."""
    if type(value) is str:
        if _AMOUNT.fullmatch(value) is None:
            raise _NotSure
        return Decimal(value)
    if type(value) is int and 0 <= value < 10**20:
        return Decimal(str(value))
    raise _NotSure


def _choice(table: dict[str, Any], data: dict[str, Any], key: str, default: Any) -> Any:
    """A ChoiceField's value (its default when the key is absent, as to_order_input's)."""
    if key not in data:
        return default
    value = data[key]
    if type(value) is not str or value not in table:
        raise _NotSure
    return table[value]


def _section(data: dict[str, Any], key: str, allowed: frozenset[str]) -> dict[str, Any] | None:
    if key not in data:
        return None
    value = data[key]
    if type(value) is not dict or not value.keys() <= allowed:
        raise _NotSure
    return value


# What read() assumes of the serializer's text fields: (section, field, max_length, required).
# _Reader checks it against OrderCreateInputSerializer when it is built and stays off (every
# body to the serializer) if the serializer says otherwise, so a limit changed there can never
# let through here what DRF refuses (tests/orders/test_order_input_fast_path.py checks it is on).
TEXT_FIELDS = (
    ("", "external_id", 100, True),
    ("", "notes", 2000, False),
    ("customer", "name", 200, True),
    ("customer", "email", 254, False),
    ("customer", "phone", 40, False),
    ("delivery", "pickup_node", 32, False),
    ("shipping_address", "name", 200, False),
    ("shipping_address", "line1", 200, True),
    ("shipping_address", "line2", 200, False),
    ("shipping_address", "city", 100, True),
    ("shipping_address", "region", 100, False),
    ("shipping_address", "postal_code", 20, False),
    ("payment", "method", 50, False),
    ("payment", "reference", 100, False),
    ("lines", "sku", 64, True),
    ("lines", "external_line_id", 100, False),
)
_PLAIN_TEXT_VALIDATORS = {
    "MaxLengthValidator",
    "ProhibitNullCharactersValidator",
    "ProhibitSurrogateCharactersValidator",
    "EmailValidator",
}


def _matches(fields: Any) -> bool:
    """Whether the serializer's fields are still the ones read() was written for."""
    for section, name, max_length, required in TEXT_FIELDS:
        parent = fields[section] if section else None
        if parent is not None and hasattr(parent, "child"):
            parent = parent.child
        field = parent.fields[name] if parent is not None else fields[name]
        if (
            field.max_length != max_length
            or field.required != required
            or field.allow_blank == required
            or not {type(v).__name__ for v in field.validators} <= _PLAIN_TEXT_VALIDATORS
        ):
            return False
    lines = fields["lines"]
    quantity = lines.child.fields["quantity"]
    top = {name for name, field in fields.items() if field.required}
    return (
        lines.max_length == _MAX_LINES
        and not lines.allow_empty
        and quantity.max_value == _MAX_QUANTITY
        and top == set(_REQUIRED)
        and set(fields) >= _TOP
    )


class _Reader:
    """Reads one body; the serializer's own placed_at field parses the date (its bounds, its
    time zone handling), so that part is DRF's code, not a copy of it."""

    def __init__(self) -> None:
        fields = OrderCreateInputSerializer().fields
        self.enabled = _matches(fields)
        self._placed_at = fields["placed_at"]
        # The choice fields' own tables: the value DRF hands over (an enum member where the
        # serializer lists members), keyed by the string sent.
        self._methods = dict(fields["delivery"].fields["method"].choice_strings_to_values)
        self._levels = dict(fields["delivery"].fields["service_level"].choice_strings_to_values)
        self._statuses = dict(fields["payment"].fields["status"].choice_strings_to_values)

    def read(self, data: Any) -> OrderInput:
        if type(data) is not dict or not data.keys() <= _TOP:
            raise _NotSure
        if any(key not in data for key in _REQUIRED):
            raise _NotSure
        placed_at_text = data["placed_at"]
        if type(placed_at_text) is not str:
            raise _NotSure
        try:
            placed_at = self._placed_at.run_validation(placed_at_text)
        except ValidationError:
            raise _NotSure from None
        currency = _text(data["currency"], 3, blank=False)
        if _CURRENCY.fullmatch(currency) is None:
            raise _NotSure

        customer = _section(data, "customer", _CUSTOMER)
        if customer is None or "name" not in customer:
            raise _NotSure
        email = _optional_text(customer, "email", 254)
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                raise _NotSure from None

        delivery = _section(data, "delivery", _DELIVERY) or {}
        method = _choice(self._methods, delivery, "method", DeliveryMethod.SHIP)
        service_level = _choice(self._levels, delivery, "service_level", ServiceLevel.STANDARD)
        payment = _section(data, "payment", _PAYMENT) or {}
        payment_status = _choice(self._statuses, payment, "status", PaymentStatus.PENDING)

        lines = data["lines"]
        if type(lines) is not list or not 0 < len(lines) <= _MAX_LINES:
            raise _NotSure

        return OrderInput(
            external_id=_text(data["external_id"], 100, blank=False),
            placed_at=placed_at,
            currency=currency,
            customer_name=_text(customer["name"], 200, blank=False),
            customer_email=email,
            customer_phone=_optional_text(customer, "phone", 40),
            delivery_method=method,
            service_level=service_level,
            pickup_node_code=_optional_text(delivery, "pickup_node", 32),
            shipping_address=self._address(data),
            billing_address={},
            lines=[self._line(line) for line in lines],
            shipping_total=_amount(data["shipping_total"]) if "shipping_total" in data else _ZERO,
            shipping_tax=_amount(data["shipping_tax"]) if "shipping_tax" in data else _ZERO,
            expected_grand_total=_amount(data["grand_total"]) if "grand_total" in data else None,
            payment_status=payment_status,
            payment_method=_optional_text(payment, "method", 50),
            payment_reference=_optional_text(payment, "reference", 100),
            notes=_optional_text(data, "notes", 2000),
            holds=(),
        )

    @staticmethod
    def _address(data: dict[str, Any]) -> AddressInput | None:
        address = _section(data, "shipping_address", _ADDRESS)
        if address is None:
            return None
        if any(key not in address for key in ("line1", "city", "country")):
            raise _NotSure
        country = _text(address["country"], 2, blank=False)
        if _COUNTRY.fullmatch(country) is None:
            raise _NotSure
        return AddressInput(
            name=_optional_text(address, "name", 200),
            line1=_text(address["line1"], 200, blank=False),
            line2=_optional_text(address, "line2", 200),
            city=_text(address["city"], 100, blank=False),
            region=_optional_text(address, "region", 100),
            postal_code=_optional_text(address, "postal_code", 20),
            country=country,
        )

    @staticmethod
    def _line(line: Any) -> LineInput:
        if type(line) is not dict or not line.keys() <= _LINE:
            raise _NotSure
        if "sku" not in line or "quantity" not in line or "unit_price" not in line:
            raise _NotSure
        quantity = line["quantity"]
        if type(quantity) is not int or not 0 < quantity <= _MAX_QUANTITY:
            raise _NotSure
        return LineInput(
            sku=_text(line["sku"], 64, blank=False),
            quantity=quantity,
            unit_price=_amount(line["unit_price"]),
            discount=_amount(line["discount"]) if "discount" in line else _ZERO,
            tax=_amount(line["tax"]) if "tax" in line else _ZERO,
            external_line_id=_optional_text(line, "external_line_id", 100),
        )


_reader: _Reader | None = None


def read_order_input(data: Any) -> OrderInput | None:
    """The OrderInput of a valid order body in the common form, or None: then run
    OrderCreateInputSerializer, which gives the OrderInput or the 400."""
    global _reader  # noqa: PLW0603 - built on first use (the serializer's field needs the app)
    if _reader is None:
        _reader = _Reader()
    if not _reader.enabled:
        return None
    try:
        return _reader.read(data)
    except _NotSure:
        return None
