"""What finance can export: each dataset is a title, its columns and a row generator over a
query (a date range, optionally one channel and one currency). Rows stream from the database
in chunks (`.iterator(chunk_size=...)`): nothing holds a whole export in memory.

Adding a dataset is one `register_dataset(Dataset(...))` in the module that owns the data
(after the reverse flow lands: its payment transactions replace "payments", and "refunds" and
"returns" are registered by it); the admin's form, the export jobs and `export_finance` pick it
up by name. Amounts carry the currency's minor units (USD 2, JPY 0, KWD 3), never the 4 stored
decimals.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from oms.core.money import minor_units
from oms.events.models import Event
from orders.models import OrderLine
from orders.selectors import orders_for_staff

CHUNK = 2_000


@dataclass(frozen=True)
class Query:
    date_from: date
    date_to: date
    channel: str = ""
    currency: str = ""


Rows = Iterator[tuple[Any, ...]]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: Callable[[Query], Rows]
    count: Callable[[Query], int]
    description: str = ""


DATASETS: dict[str, Dataset] = {}


def register_dataset(dataset: Dataset) -> Dataset:
    DATASETS[dataset.name] = dataset
    return dataset


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise LookupError(f"No finance dataset {name!r} in this build; known: {known}.") from None


def amount(value: Decimal | str | None, currency: str) -> Decimal | None:
    """The amount with exactly the currency's minor units."""
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-minor_units(currency)))


# --- orders, lines, taxes ----------------------------------------------------------------------


def _orders(query: Query) -> Any:
    queryset = orders_for_staff().filter(
        placed_at__date__gte=query.date_from, placed_at__date__lte=query.date_to
    )
    if query.channel:
        queryset = queryset.filter(channel__code=query.channel)
    if query.currency:
        queryset = queryset.filter(currency=query.currency)
    return queryset.order_by("placed_at", "id")


ORDER_COLUMNS = (
    "order_number",
    "external_id",
    "channel",
    "placed_at",
    "status",
    "payment_status",
    "currency",
    "subtotal",
    "shipping_total",
    "discount_total",
    "tax_total",
    "grand_total",
)


def order_rows(query: Query) -> Rows:
    values = _orders(query).values_list(
        "number",
        "external_id",
        "channel__code",
        "placed_at",
        "status",
        "payment_status",
        "currency",
        "subtotal",
        "shipping_total",
        "discount_total",
        "tax_total",
        "grand_total",
    )
    for row in values.iterator(chunk_size=CHUNK):
        currency = row[6]
        yield (*row[:7], *(amount(value, currency) for value in row[7:]))


def _lines(query: Query) -> Any:
    queryset = OrderLine.objects.filter(order__in=_orders(query).values("pk"))
    return queryset.order_by("order__placed_at", "order_id", "line_number")


LINE_COLUMNS = (
    "order_number",
    "channel",
    "placed_at",
    "currency",
    "line_number",
    "sku",
    "name",
    "quantity",
    "unit_price",
    "discount",
    "tax",
    "total",
    "status",
)


def line_rows(query: Query) -> Rows:
    values = _lines(query).values_list(
        "order__number",
        "order__channel__code",
        "order__placed_at",
        "order__currency",
        "line_number",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "total",
        "status",
    )
    for row in values.iterator(chunk_size=CHUNK):
        currency = row[3]
        yield (*row[:8], *(amount(value, currency) for value in row[8:12]), row[12])


TAX_COLUMNS = (
    "order_number",
    "placed_at",
    "channel",
    "currency",
    "ship_country",
    "ship_region",
    "ship_postal_code",
    "net_amount",
    "tax",
    "gross_amount",
)


def tax_rows(query: Query) -> Rows:
    """Tax per order and jurisdiction (ship-to country, region, postal code; the store's for a
    pickup): net = grand total − tax, so net + tax ties to the orders export."""
    values = _orders(query).values_list(
        "number",
        "placed_at",
        "channel__code",
        "currency",
        "ship_country",
        "ship_region",
        "ship_postal_code",
        "pickup_node__country",
        "pickup_node__region",
        "pickup_node__postal_code",
        "tax_total",
        "grand_total",
    )
    for row in values.iterator(chunk_size=CHUNK):
        number, placed, channel, currency, country, region, postal = row[:7]
        if not country and row[7]:
            country, region, postal = row[7], row[8], row[9]
        tax, gross = amount(row[10], currency), amount(row[11], currency)
        net = (gross or Decimal(0)) - (tax or Decimal(0))
        yield (number, placed, channel, currency, country, region, postal, net, tax, gross)


# --- payments (captures, from the order.payment_captured events) -------------------------------

PAYMENT_COLUMNS = (
    "occurred_at",
    "order_number",
    "channel",
    "currency",
    "type",
    "amount",
    "reference",
)
CAPTURE_EVENT = "order.payment_captured"


def _capture_events(query: Query) -> Any:
    return (
        Event.objects.filter(
            type=CAPTURE_EVENT,
            occurred_at__date__gte=query.date_from,
            occurred_at__date__lte=query.date_to,
        )
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "stream", "payload")
    )


def payment_rows(query: Query) -> Rows:
    """One row per capture. The order's channel is looked up a chunk at a time."""
    chunk: list[tuple[Any, str, dict[str, Any]]] = []
    for event in _capture_events(query).iterator(chunk_size=CHUNK):
        chunk.append(event)
        if len(chunk) == CHUNK:
            yield from _payment_chunk(chunk, query)
            chunk = []
    yield from _payment_chunk(chunk, query)


def _payment_chunk(chunk: list[tuple[Any, str, dict[str, Any]]], query: Query) -> Rows:
    if not chunk:
        return
    numbers = [stream.removeprefix("order:") for _at, stream, _payload in chunk]
    channels = dict(
        orders_for_staff().filter(number__in=numbers).values_list("number", "channel__code")
    )
    for (at, _stream, payload), number in zip(chunk, numbers, strict=True):
        currency = str(payload.get("currency", ""))
        channel = channels.get(number, "")
        if query.channel and channel != query.channel:
            continue
        if query.currency and currency != query.currency:
            continue
        yield (
            at,
            number,
            channel,
            currency,
            "capture",
            amount(payload.get("amount"), currency),
            payload.get("reference", ""),
        )


def _count_orders(query: Query) -> int:
    return _orders(query).count()


register_dataset(
    Dataset(
        "orders",
        "Orders",
        ORDER_COLUMNS,
        order_rows,
        _count_orders,
        "One row per order placed in the range: status, payment status and totals.",
    )
)
register_dataset(
    Dataset(
        "lines",
        "Order lines",
        LINE_COLUMNS,
        line_rows,
        lambda query: _lines(query).count(),
        "One row per line of the orders placed in the range.",
    )
)
register_dataset(
    Dataset(
        "taxes",
        "Taxes",
        TAX_COLUMNS,
        tax_rows,
        _count_orders,
        "Tax per order and jurisdiction (ship-to, or the pickup store).",
    )
)
register_dataset(
    Dataset(
        "payments",
        "Payment transactions",
        PAYMENT_COLUMNS,
        payment_rows,
        lambda query: _capture_events(query).count(),
        "Captures in the range (refunds and voids join when the reverse flow records them).",
    )
)
