"""capture_order(): turn a validated order request into an Order, its lines and order.created."""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from inventory.models import Node, normalize_sku
from inventory.selectors import get_node_by_code, products_by_sku
from oms.core.actors import Actor
from oms.core.countries import is_iso_country
from oms.core.errors import FieldError, InvalidInput
from oms.core.money import (
    format_amount,
    has_valid_scale,
    is_active_currency,
    is_in_range,
    max_amount,
    minor_units,
)
from oms.core.prefetch import attach_prefetched
from oms.core.queries import (
    insert_rows_bound,
    insert_unless_conflict_bound,
    new_row,
    unique_or_none,
)
from oms.events.services import record_event
from orders.events import ORDER_CREATED
from orders.exceptions import DuplicateOrder, LineErrorCode, OrderErrorCode
from orders.models import (
    Channel,
    DeliveryMethod,
    Order,
    OrderLine,
    PaymentStatus,
    ServiceLevel,
    stream_for_order,
)
from orders.ownership import OwnershipQuery, resolve_owner
from orders.services.holds import hold_order


@dataclass(frozen=True)
class AddressInput:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    external_line_id: str = ""


@dataclass(frozen=True)
class OrderInput:
    external_id: str
    placed_at: datetime
    currency: str
    customer_name: str
    lines: list[LineInput]
    customer_email: str = ""
    customer_phone: str = ""
    delivery_method: str = DeliveryMethod.SHIP
    service_level: str = ServiceLevel.STANDARD
    pickup_node_code: str = ""
    shipping_address: AddressInput | None = None
    billing_address: dict[str, Any] = field(default_factory=dict)
    shipping_total: Decimal = Decimal("0")
    shipping_tax: Decimal = Decimal("0")
    expected_grand_total: Decimal | None = None
    payment_status: str = PaymentStatus.PENDING
    payment_reference: str = ""
    payment_method: str = ""
    notes: str = ""
    # Holds the channel asks for at capture (e.g. its fraud screen wants a review): placed in
    # the same transaction, so orchestration never sees the order without them.
    holds: tuple[tuple[str, str], ...] = ()  # (kind, reason)
    # Mirrored in from the legacy system (migration's legacy feed): the legacy system has it
    # already, so oms never hands it back. Ownership comes from the channel's cutover plan.
    legacy_mirror: bool = False


@dataclass(frozen=True)
class _Totals:
    line_totals: list[Decimal]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    grand_total: Decimal


# Crockford base32 without I, L, O, U: nothing a person reading a number over the phone confuses.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number() -> str:
    """OMS-XXXX-XXXX: 40 random bits. Random rather than sequential so that capture never
    queues on a shared counter row; a collision (about 1 in 10^12 per pair) is retried."""
    bits = secrets.randbits(40)  # 8 characters of 5 bits: one draw, not eight
    chars = "".join(_NUMBER_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"OMS-{chars[:4]}-{chars[4:]}"


def capture_order(
    *, channel: Channel, data: OrderInput, actor: Actor, savepoint: bool = True
) -> Order:
    """Create an order with its lines and an `order.created` event in one transaction.

    Validates references (SKUs, pickup node), money scale and totals; refuses a second order
    with the same (channel, external_id) with `duplicate_order` (detected by the unique
    constraint, so concurrent duplicates are caught too, with no extra query on the hot path).
    The returned order carries its lines and holds, ready to render without a re-read.
    `order.created` is what schedules orchestration on commit (fulfillment/handlers.py); holds
    asked for at capture go through `hold_order()`, as `place_hold()` does. Not idempotent by
    itself: the API makes it so with Idempotency-Key, and the (channel, external_id) constraint
    makes a retried capture a clear 409, never a duplicate.

    Inside a caller's transaction, capture runs in a savepoint, so a failure leaves the
    caller's transaction usable and without a trace of the order. `savepoint=False` is for a
    caller that rolls its whole transaction back when capture raises (the API's idempotency
    block does): it saves the SAVEPOINT and RELEASE round trips. A duplicate needs no
    savepoint either way: the order goes in with ON CONFLICT DO NOTHING, which raises nothing.
    """
    products, pickup_node, totals = _validate(channel=channel, data=data)
    with transaction.atomic(savepoint=savepoint):
        order = _new_order(channel=channel, data=data, pickup_node=pickup_node, totals=totals)
        existing_number = _insert_with_unique_number(order)
        if existing_number is None:
            _insert_lines_and_events(
                order, data=data, products=products, totals=totals, actor=actor
            )
    if existing_number is not None:  # raised outside the block: the caller's transaction is fine
        raise DuplicateOrder(
            channel_code=channel.code, external_id=data.external_id, number=existing_number
        )
    return order


def _insert_with_unique_number(order: Order) -> str | None:
    """Insert the order row; on a (channel, external_id) conflict return the existing order's
    number instead (a concurrent request with the same external id won, or an earlier one)."""
    for _attempt in range(3):
        if insert_unless_conflict_bound(order):
            return None
        existing = unique_or_none(
            Order.objects.filter(channel=order.channel, external_id=order.external_id)
        )
        if existing is not None:
            return existing.number
        # Otherwise the random number (or, once in 2^122, the public id) collided: draw again.
        order.number = new_order_number()
        order.public_id = uuid.uuid4()
    raise RuntimeError("could not allocate a unique order number in 3 attempts")


def _validate(*, channel: Channel, data: OrderInput) -> tuple[dict[str, Any], Node | None, _Totals]:
    errors: list[FieldError] = []
    if not channel.is_active:
        errors.append(
            FieldError(OrderErrorCode.CHANNEL_INACTIVE, f"Channel {channel.code} is inactive.")
        )
    currency_ok = is_active_currency(data.currency)
    if not currency_ok:
        errors.append(
            FieldError(
                OrderErrorCode.UNKNOWN_CURRENCY,
                f"{data.currency!r} is not an active ISO 4217 currency (funds, precious metals, "
                "test and withdrawn codes are refused).",
                "currency",
            )
        )
    if data.shipping_address is not None:
        _country_errors(errors, "shipping_address.country", data.shipping_address.country)
    if data.billing_address:
        _country_errors(errors, "billing_address.country", data.billing_address.get("country"))
    products = products_by_sku([line.sku for line in data.lines])
    amounts_storable = currency_ok
    for index, line in enumerate(data.lines):
        path = f"lines[{index}]"
        product = products.get(normalize_sku(line.sku))
        if product is None:
            errors.append(
                FieldError(
                    LineErrorCode.UNKNOWN_SKU, f"No product with SKU {line.sku!r}.", f"{path}.sku"
                )
            )
        elif not product.is_active:
            errors.append(
                FieldError(
                    LineErrorCode.INACTIVE_SKU,
                    f"Product {product.sku} is not for sale.",
                    f"{path}.sku",
                )
            )
        if line.quantity <= 0:
            errors.append(
                FieldError(
                    LineErrorCode.QUANTITY_NOT_POSITIVE,
                    "Quantity must be at least 1.",
                    f"{path}.quantity",
                )
            )
        if not currency_ok:
            continue
        line_errors = _amount_errors(
            data.currency, path, unit_price=line.unit_price, discount=line.discount, tax=line.tax
        )
        errors.extend(line_errors)
        if any(e.code == LineErrorCode.AMOUNT_OUT_OF_RANGE for e in line_errors):
            amounts_storable = False
            continue  # no arithmetic on an amount that is not storable
        if line.discount > line.unit_price * max(line.quantity, 0):
            errors.append(
                FieldError(
                    LineErrorCode.DISCOUNT_EXCEEDS_PRICE,
                    "The discount is larger than the line's price.",
                    f"{path}.discount",
                )
            )
    if currency_ok:
        order_amounts = {"shipping_total": data.shipping_total, "shipping_tax": data.shipping_tax}
        if data.expected_grand_total is not None:
            order_amounts["grand_total"] = data.expected_grand_total
        order_errors = _amount_errors(data.currency, "", **order_amounts)
        errors.extend(order_errors)
        if any(e.code == LineErrorCode.AMOUNT_OUT_OF_RANGE for e in order_errors):
            amounts_storable = False
    pickup_node = _validate_delivery(data, errors)
    if not amounts_storable:
        raise _invalid(errors, data.currency)
    totals = _totals(data)
    errors.extend(_total_range_errors(data, totals))
    if (
        not errors
        and data.expected_grand_total is not None
        and data.expected_grand_total != totals.grand_total
    ):
        errors.append(
            FieldError(
                OrderErrorCode.TOTAL_MISMATCH,
                f"grand_total {data.expected_grand_total} does not match the lines, shipping and "
                f"tax, which add up to {totals.grand_total}.",
                "grand_total",
            )
        )
    if errors:
        raise _invalid(errors, data.currency)
    return products, pickup_node, totals


def _invalid(errors: list[FieldError], currency: str) -> InvalidInput:
    """The refusal; when an amount is out of range, `extra` names the limit for the currency."""
    extra: dict[str, Any] = {}
    if any(e.code == LineErrorCode.AMOUNT_OUT_OF_RANGE for e in errors):
        extra = {"max_amount": format_amount(max_amount(currency), currency), "currency": currency}
    return InvalidInput(errors, extra=extra)


def _country_errors(errors: list[FieldError], path: str, country: object) -> None:
    if isinstance(country, str) and country and not is_iso_country(country):
        errors.append(
            FieldError(
                OrderErrorCode.UNKNOWN_COUNTRY,
                f"{country!r} is not an ISO 3166-1 alpha-2 country code.",
                path,
            )
        )


def _amount_errors(currency: str, prefix: str, **amounts: Decimal) -> list[FieldError]:
    """Each amount storable (`amount_out_of_range`), then written with at most the currency's
    minor units, trailing zeros included (`invalid_money_scale`)."""
    places = minor_units(currency)
    dot = "." if prefix else ""
    errors = []
    for name, amount in amounts.items():
        if not is_in_range(amount, currency):
            errors.append(_out_of_range(f"{prefix}{dot}{name}", amount, currency))
        elif not has_valid_scale(amount, currency):
            errors.append(
                FieldError(
                    LineErrorCode.INVALID_MONEY_SCALE,
                    f"{amount} has more than the {places} decimal places {currency} allows.",
                    f"{prefix}{dot}{name}",
                )
            )
    return errors


def _out_of_range(path: str, amount: Decimal, currency: str, what: str = "") -> FieldError:
    limit = format_amount(max_amount(currency), currency)
    return FieldError(
        LineErrorCode.AMOUNT_OUT_OF_RANGE,
        f"{what or amount} is over the largest amount oms stores, {limit} {currency}.",
        path,
    )


def _total_range_errors(data: OrderInput, totals: _Totals) -> list[FieldError]:
    """Line and order totals fit the columns they are stored in (checked before any insert):
    a line's quantity × unit_price − discount + tax, then the order's totals."""
    currency = data.currency
    errors = []
    for index, (line, total) in enumerate(zip(data.lines, totals.line_totals, strict=True)):
        with_tax = total + line.tax
        if not (is_in_range(total, currency) and is_in_range(with_tax, currency)):
            what = (
                f"The line total (quantity × unit_price − discount + tax), {max(total, with_tax)},"
            )
            errors.append(_out_of_range(f"lines[{index}].total", with_tax, currency, what))
    if errors:
        return errors  # the order's totals would only repeat them
    for name in ("subtotal", "discount_total", "tax_total", "grand_total"):
        amount = getattr(totals, name)
        if not is_in_range(amount, currency):
            errors.append(_out_of_range(name, amount, currency, f"The order's {name}, {amount},"))
    return errors


def _validate_delivery(data: OrderInput, errors: list[FieldError]) -> Node | None:
    if data.delivery_method == DeliveryMethod.SHIP:
        address = data.shipping_address
        if address is None or not (address.line1 and address.city and address.country):
            errors.append(
                FieldError(
                    OrderErrorCode.SHIPPING_ADDRESS_REQUIRED,
                    "Orders shipped to an address need shipping_address with line1, city "
                    "and country.",
                    "shipping_address",
                )
            )
        return None
    if not data.pickup_node_code:
        errors.append(
            FieldError(
                OrderErrorCode.PICKUP_NODE_REQUIRED,
                f"{data.delivery_method} orders need delivery.pickup_node.",
                "delivery.pickup_node",
            )
        )
        return None
    node = get_node_by_code(data.pickup_node_code)
    if node is None or not node.is_active:
        errors.append(
            FieldError(
                OrderErrorCode.UNKNOWN_PICKUP_NODE,
                f"No active node {data.pickup_node_code!r}.",
                "delivery.pickup_node",
            )
        )
        return None
    if data.delivery_method == DeliveryMethod.PICKUP and not node.can_pickup:
        errors.append(
            FieldError(
                OrderErrorCode.NODE_DOES_NOT_PICKUP,
                f"{node.code} does not offer store pickup.",
                "delivery.pickup_node",
            )
        )
    if data.delivery_method == DeliveryMethod.CURBSIDE and not node.can_curbside:
        errors.append(
            FieldError(
                OrderErrorCode.NODE_DOES_NOT_CURBSIDE,
                f"{node.code} does not offer curbside pickup.",
                "delivery.pickup_node",
            )
        )
    return node


def _totals(data: OrderInput) -> _Totals:
    line_totals = [line.unit_price * line.quantity - line.discount for line in data.lines]
    subtotal = sum(line_totals, Decimal("0"))
    discount_total = sum((line.discount for line in data.lines), Decimal("0"))
    tax_total = sum((line.tax for line in data.lines), Decimal("0")) + data.shipping_tax
    return _Totals(
        line_totals=line_totals,
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        grand_total=subtotal + data.shipping_total + tax_total,
    )


def _new_order(
    *, channel: Channel, data: OrderInput, pickup_node: Node | None, totals: _Totals
) -> Order:
    """The order row, not yet inserted."""
    address = data.shipping_address or AddressInput()
    owner = resolve_owner(
        OwnershipQuery(
            channel_id=channel.pk,
            channel_code=channel.code,
            external_id=data.external_id,
            delivery_method=data.delivery_method,
            region=address.region,
            postal_code=address.postal_code,
            pickup_node_code=pickup_node.code if pickup_node is not None else "",
            legacy_mirror=data.legacy_mirror,
            cutover_mode=channel.cutover_mode,
            cutover_share=channel.cutover_share,
            cutover_narrowing=channel.cutover_narrowing or {},
        )
    )
    return new_row(
        Order,
        number=new_order_number(),
        owner=owner,
        is_legacy_mirror=data.legacy_mirror,
        channel=channel,
        external_id=data.external_id,
        payment_status=data.payment_status,
        payment_reference=data.payment_reference,
        payment_method=data.payment_method,
        placed_at=data.placed_at,
        currency=data.currency,
        subtotal=totals.subtotal,
        shipping_total=data.shipping_total,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        grand_total=totals.grand_total,
        customer_name=data.customer_name,
        customer_email=data.customer_email.lower(),
        customer_phone=data.customer_phone,
        delivery_method=data.delivery_method,
        service_level=data.service_level,
        pickup_node=pickup_node,
        ship_name=address.name or data.customer_name,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_region=address.region,
        ship_postal_code=address.postal_code,
        ship_country=address.country.upper(),
        ship_latitude=address.latitude,
        ship_longitude=address.longitude,
        billing_address=data.billing_address,
        notes=data.notes,
    )


def _insert_lines_and_events(
    order: Order,
    *,
    data: OrderInput,
    products: dict[str, Any],
    totals: _Totals,
    actor: Actor,
) -> None:
    lines = [
        new_row(
            OrderLine,
            order=order,
            line_number=index + 1,
            external_line_id=line.external_line_id,
            product=products[normalize_sku(line.sku)],
            sku=products[normalize_sku(line.sku)].sku,
            name=products[normalize_sku(line.sku)].name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            tax=line.tax,
            total=totals.line_totals[index],
        )
        for index, line in enumerate(data.lines)
    ]
    insert_rows_bound(lines)
    attach_prefetched(order, lines=lines, holds=[])
    record_event(
        stream=stream_for_order(order.number),
        type=ORDER_CREATED,
        actor=actor,
        payload=order_created_payload(order, lines),
        first_in_stream=True,
        subject=order,
    )
    holds = [
        hold_order(order, kind=kind, reason=reason, actor=actor) for kind, reason in data.holds
    ]
    if holds:
        attach_prefetched(order, holds=holds)  # the response shows them, with no re-read


def order_created_payload(order: Order, lines: list[OrderLine]) -> dict[str, Any]:
    def money(amount: Decimal) -> str:
        return format_amount(amount, order.currency)

    return {
        "order": {
            "number": order.number,
            "public_id": str(order.public_id),
            "channel": order.channel.code,
            "external_id": order.external_id,
            "placed_at": order.placed_at.isoformat(),
            "currency": order.currency,
            "subtotal": money(order.subtotal),
            "shipping_total": money(order.shipping_total),
            "discount_total": money(order.discount_total),
            "tax_total": money(order.tax_total),
            "grand_total": money(order.grand_total),
            "delivery_method": order.delivery_method,
            "service_level": order.service_level,
            "pickup_node": order.pickup_node.code if order.pickup_node else None,
            "ship_to": {
                "city": order.ship_city,
                "region": order.ship_region,
                "postal_code": order.ship_postal_code,
                "country": order.ship_country,
            },
            "payment_status": order.payment_status,
        },
        "lines": [
            {
                "line_number": line.line_number,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "discount": money(line.discount),
                "tax": money(line.tax),
                "total": money(line.total),
            }
            for line in lines
        ],
    }
