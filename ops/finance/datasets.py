"""What finance can export: each dataset is a title, its columns and a row generator over a
query (a date range, optionally one channel and one currency). Rows stream from the database
in chunks (`.iterator(chunk_size=...)`): nothing holds a whole export in memory.

Adding a dataset is one `register_dataset(Dataset(...))`; the admin's form, the export jobs
and `export_finance` pick it up by name. "payments" are the payment transactions
(orders.PaymentTransaction), "refunds" and "returns" the returns app's rows. Amounts carry
the currency's minor units (USD 2, JPY 0, KWD 3), never the 4 stored decimals.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, Sum

from oms.core.money import minor_units
from orders.models import OrderLine, PaymentKind, PaymentTransaction, TransactionStatus
from orders.selectors import orders_for_staff
from returns.models import Refund, RefundStatus, Return, ReturnLine

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


def in_range(queryset: Any, query: Query, *, on: str, channel: str = "order__channel") -> Any:
    """The rows whose `on` date falls in the range (by calendar day), of the query's channel
    and currency when it names them, oldest first: the one filter every dataset shares."""
    queryset = queryset.filter(
        **{f"{on}__date__gte": query.date_from, f"{on}__date__lte": query.date_to}
    )
    if query.channel:
        queryset = queryset.filter(**{f"{channel}__code": query.channel})
    if query.currency:
        queryset = queryset.filter(currency=query.currency)
    return queryset.order_by(on, "id")


def error_text(code: str, message: str) -> str:
    """A failed attempt's error as one cell: `code: message`, or whichever is there."""
    return f"{code}: {message}" if code and message else code or message


# --- orders, lines, taxes ----------------------------------------------------------------------


def _orders(query: Query) -> Any:
    return in_range(orders_for_staff(), query, on="placed_at", channel="channel")


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


# --- payments (the payment transactions) ------------------------------------------------------

PAYMENT_COLUMNS = (
    "created_at",
    "order_number",
    "channel",
    "shipment_reference",
    "kind",
    "status",
    "currency",
    "amount",
    "settled_amount",
    "provider_reference",
    "error",
)
# Only a succeeded capture or refund moves money: settled_amount is +amount for a capture,
# -amount for a refund, and 0 for everything else (authorizations, voids, pending or failed
# attempts). The daily settlement sums exactly this column.
SETTLING_KINDS = {PaymentKind.CAPTURE: 1, PaymentKind.REFUND: -1}


def _transactions(query: Query) -> Any:
    return in_range(PaymentTransaction.objects.all(), query, on="created_at")


def settled(kind: str, status: str, value: Decimal, currency: str) -> Decimal:
    """What one transaction adds to the day's net, with the currency's minor units."""
    sign = SETTLING_KINDS.get(kind, 0) if status == TransactionStatus.SUCCEEDED else 0
    return Decimal(str(value * sign)).quantize(Decimal(1).scaleb(-minor_units(currency)))


def payment_rows(query: Query) -> Rows:
    """One row per payment transaction created in the range: every attempt, failed ones with
    their error."""
    values = _transactions(query).values_list(
        "created_at",
        "order__number",
        "order__channel__code",
        "shipment_reference",
        "kind",
        "status",
        "currency",
        "amount",
        "provider_reference",
        "error_code",
        "error_message",
    )
    for (
        at,
        number,
        channel,
        shipment,
        kind,
        status,
        currency,
        value,
        ref,
        code,
        msg,
    ) in values.iterator(chunk_size=CHUNK):
        error = error_text(code, msg)
        yield (
            at,
            number,
            channel,
            shipment,
            kind,
            status,
            currency,
            amount(value, currency),
            settled(kind, status, value, currency),
            ref,
            error,
        )


# --- refunds and returns (the returns app) ------------------------------------------------------

REFUND_COLUMNS = (
    "created_at",
    "refunded_at",
    "order_number",
    "channel",
    "return_number",
    "kind",
    "reason_code",
    "status",
    "currency",
    "amount",
    "payment_transaction",
    "provider_reference",
    "error",
)
APPEASEMENT = "appeasement"


def _refunds(query: Query) -> Any:
    return in_range(Refund.objects.all(), query, on="created_at")


def refund_rows(query: Query) -> Rows:
    """One row per refund asked for in the range: of a return (its number) or an appeasement
    (goodwill, no return), with the payment transaction that paid it."""
    values = _refunds(query).values_list(
        "created_at",
        "refunded_at",
        "order__number",
        "order__channel__code",
        "rma__number",
        "kind",
        "reason_code",
        "status",
        "currency",
        "amount",
        "payment_transaction_id",
        "provider_reference",
        "error_code",
        "error_message",
    )
    for row in values.iterator(chunk_size=CHUNK):
        created, refunded, number, channel, rma, kind, reason, status, currency = row[:9]
        value, tx, ref, code, msg = row[9:]
        yield (
            created,
            refunded,
            number,
            channel,
            rma or APPEASEMENT,
            kind,
            reason,
            status,
            currency,
            amount(value, currency),
            tx,
            ref,
            error_text(code, msg),
        )


RETURN_COLUMNS = (
    "created_at",
    "return_number",
    "order_number",
    "channel",
    "status",
    "source",
    "exchange",
    "lines",
    "units",
    "received",
    "restocked",
    "damaged",
    "vendor_return",
    "destroyed",
    "currency",
    "refunded",
)


def _returns(query: Query) -> Any:
    return in_range(Return.objects.all(), query, on="created_at")


def return_rows(query: Query) -> Rows:
    """One row per return (RMA) asked for in the range: its lines as `SKU × units (reason)`,
    units asked, received and per disposition, and the refunds that succeeded for it."""
    returns = (
        _returns(query)
        .select_related("order__channel")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnLine.objects.select_related("order_line").order_by(
                    "order_line__line_number", "id"
                ),
            )
        )
        .annotate(
            refunded_total=Sum("refunds__amount", filter=Q(refunds__status=RefundStatus.SUCCEEDED))
        )
    )
    for rma in returns.iterator(chunk_size=CHUNK):
        lines = list(rma.lines.all())
        yield (
            rma.created_at,
            rma.number,
            rma.order.number,
            rma.order.channel.code,
            rma.status,
            rma.source,
            rma.exchange_kind,
            "; ".join(
                f"{line.order_line.sku} × {line.quantity} ({line.reason_code})" for line in lines
            ),
            sum(line.quantity for line in lines),
            sum(line.received_quantity for line in lines),
            sum(line.restock_quantity for line in lines),
            sum(line.damaged_quantity for line in lines),
            sum(line.vendor_return_quantity for line in lines),
            sum(line.destroy_quantity for line in lines),
            rma.currency,
            amount(rma.refunded_total or Decimal(0), rma.currency),
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
        lambda query: _transactions(query).count(),
        "Every payment transaction in the range (authorizations, captures, voids, refunds; "
        "failed ones with their error). settled_amount: + a succeeded capture, − a succeeded "
        "refund, 0 otherwise.",
    )
)
register_dataset(
    Dataset(
        "refunds",
        "Refunds",
        REFUND_COLUMNS,
        refund_rows,
        lambda query: _refunds(query).count(),
        "One row per refund asked for in the range: of a return, or an appeasement; its "
        "reason code, status and payment transaction.",
    )
)
register_dataset(
    Dataset(
        "returns",
        "Returns",
        RETURN_COLUMNS,
        return_rows,
        lambda query: _returns(query).count(),
        "One row per return in the range: lines, units received and their dispositions, "
        "amount refunded.",
    )
)
