"""The daily settlement report, per day, channel and currency: captured, refunded and net
money, from the rows of the "payments" dataset (so it ties out to the payment transactions
export to the cent: both are the same rows; net is the sum of their `settled_amount`, which
only succeeded captures and refunds move), and two reconciliation counts: orders shipped but
not captured, and orders captured but not shipped.

A day is a calendar day in the site's time zone. "Shipped" is the day the order's first
fulfillment order shipped or was picked up; an order is "captured" once a succeeded capture exists
for it (on any day up to the end of the range).
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Min
from django.utils.timezone import localdate

from fulfillment.models import FulfillmentOrder
from ops.finance.datasets import DATASETS, Dataset, Query, amount, register_dataset
from orders.selectors import orders_for_staff

SETTLEMENT_COLUMNS = (
    "day",
    "channel",
    "currency",
    "captures",
    "captured",
    "refunds",
    "refunded",
    "net",
    "shipped_not_captured_orders",
    "shipped_not_captured_amount",
    "captured_not_shipped_orders",
    "captured_not_shipped_amount",
)


@dataclass
class Day:
    captures: int = 0
    captured: Decimal = Decimal(0)
    refunds: int = 0
    refunded: Decimal = Decimal(0)
    shipped_not_captured: list[Decimal] = field(default_factory=list)
    captured_not_shipped: list[Decimal] = field(default_factory=list)


Key = tuple[date, str, str]


def _payments(query: Query, days: dict[Key, Day]) -> dict[str, Key]:
    """Sum the payment rows' settled amounts into the days (a succeeded capture adds, a
    succeeded refund takes away; nothing else moves money); returns the captured orders and
    their day."""
    captured_orders: dict[str, Key] = {}
    columns = DATASETS["payments"].columns
    at, number, channel, currency, kind, value = (
        columns.index(name)
        for name in ("created_at", "order_number", "channel", "currency", "kind", "settled_amount")
    )
    for row in DATASETS["payments"].rows(query):
        money = row[value] or Decimal(0)
        if not money:
            continue
        key = (localdate(row[at]), row[channel], row[currency])
        day = days[key]
        if row[kind] == "capture":
            day.captures += 1
            day.captured += money
            captured_orders[row[number]] = key
        elif row[kind] == "refund":
            day.refunds += 1
            day.refunded -= money
    return captured_orders


def _captured_up_to(query: Query) -> set[str]:
    """Orders captured on any day up to the end of the range (a capture before the range still
    counts: such an order shipped in the range is not "shipped but not captured")."""
    earliest = Query(date(1970, 1, 1), query.date_to, query.channel, query.currency)
    columns = DATASETS["payments"].columns
    number, kind, value = (
        columns.index("order_number"),
        columns.index("kind"),
        columns.index("settled_amount"),
    )
    return {
        row[number]
        for row in DATASETS["payments"].rows(earliest)
        if row[kind] == "capture" and row[value]
    }


def settlement(query: Query) -> dict[Key, Day]:
    days: dict[Key, Day] = defaultdict(Day)
    captured_in_range = _payments(query, days)
    captured = _captured_up_to(query)

    first_shipped = (
        FulfillmentOrder.objects.exclude(shipped_at__isnull=True, picked_up_at__isnull=True)
        .values("order_id")
        .annotate(first=Min("shipped_at"), first_pickup=Min("picked_up_at"))
    )
    shipped_at: dict[int, Any] = {}
    for row in first_shipped.iterator(chunk_size=2_000):
        moments = [m for m in (row["first"], row["first_pickup"]) if m is not None]
        shipped_at[row["order_id"]] = min(moments)

    orders = orders_for_staff()
    if query.channel:
        orders = orders.filter(channel__code=query.channel)
    if query.currency:
        orders = orders.filter(currency=query.currency)
    shipped_ids = [
        order_id
        for order_id, moment in shipped_at.items()
        if query.date_from <= localdate(moment) <= query.date_to
    ]
    for chunk_start in range(0, len(shipped_ids), 2_000):
        ids = shipped_ids[chunk_start : chunk_start + 2_000]
        for pk, number, channel, currency, total in orders.filter(pk__in=ids).values_list(
            "pk", "number", "channel__code", "currency", "grand_total"
        ):
            if number not in captured:
                key = (localdate(shipped_at[pk]), channel, currency)
                days[key].shipped_not_captured.append(amount(total, currency) or Decimal(0))
    if captured_in_range:
        numbers = list(captured_in_range)
        for chunk_start in range(0, len(numbers), 2_000):
            chunk = numbers[chunk_start : chunk_start + 2_000]
            for pk, number, currency, total in orders.filter(number__in=chunk).values_list(
                "pk", "number", "currency", "grand_total"
            ):
                if pk not in shipped_at:
                    days[captured_in_range[number]].captured_not_shipped.append(
                        amount(total, currency) or Decimal(0)
                    )
    return dict(days)


def settlement_rows(query: Query) -> Iterator[tuple[Any, ...]]:
    for (day, channel, currency), d in sorted(settlement(query).items()):
        yield (
            day,
            channel,
            currency,
            d.captures,
            amount(d.captured, currency),
            d.refunds,
            amount(d.refunded, currency),
            amount(d.captured - d.refunded, currency),
            len(d.shipped_not_captured),
            amount(sum(d.shipped_not_captured, Decimal(0)), currency),
            len(d.captured_not_shipped),
            amount(sum(d.captured_not_shipped, Decimal(0)), currency),
        )


register_dataset(
    Dataset(
        "settlement",
        "Daily settlement",
        SETTLEMENT_COLUMNS,
        settlement_rows,
        lambda query: (query.date_to - query.date_from).days + 1,
        "Per day, channel and currency: captured, refunded, net; shipped but not captured; "
        "captured but not shipped. Ties out to the payment transactions export.",
    )
)
