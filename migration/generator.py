"""Large legacy exports for benchmarks and tests, in the corpus's shapes: the Shopify admin
order CSV (the 79-column header, one row per line, order columns on the first row) and Sterling
Order XML (an OrderList of Orders with OrderLines). History orders: fulfilled (Shopify) or
shipped (Sterling, status 3700) at one ship node. Deterministic for a seed; written streaming,
so a million orders take no more memory than ten."""

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO
from xml.sax.saxutils import quoteattr

SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
]
CITIES = (("Columbus", "OH", "43215"), ("Boston", "MA", "02116"), ("Reno", "NV", "89501"))


@dataclass(frozen=True)
class GeneratedLine:
    sku: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class GeneratedOrder:
    number: int
    placed_at: datetime
    shipped_at: datetime
    city: tuple[str, str, str]
    lines: tuple[GeneratedLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.quantity * line.price for line in self.lines), Decimal("0"))


def skus(count: int) -> list[str]:
    return [f"GEN-{i:05d}" for i in range(1, count + 1)]


def orders(count: int, *, sku_count: int = 100, seed: int = 7) -> Iterator[GeneratedOrder]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    catalogue = skus(sku_count)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for number in range(1, count + 1):
        placed = start + timedelta(minutes=7 * number + rng.randrange(5))
        picked = rng.sample(catalogue, rng.randint(1, 3))
        yield GeneratedOrder(
            number=number,
            placed_at=placed,
            shipped_at=placed + timedelta(hours=rng.randint(2, 60)),
            city=CITIES[number % len(CITIES)],
            lines=tuple(
                GeneratedLine(sku, rng.randint(1, 3), Decimal(rng.randrange(500, 20000)) / 100)
                for sku in picked
            ),
        )


def _shopify_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S +0000")


def write_shopify_csv(out: IO[str], count: int, *, sku_count: int = 100, seed: int = 7) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SHOPIFY_HEADER)
    for order in orders(count, sku_count=sku_count, seed=seed):
        for index, line in enumerate(order.lines):
            row = dict.fromkeys(SHOPIFY_HEADER, "")
            row.update(
                {
                    "Name": f"#G{order.number}",
                    "Created at": _shopify_time(order.placed_at),
                    "Lineitem quantity": str(line.quantity),
                    "Lineitem name": f"Generated {line.sku}",
                    "Lineitem price": f"{line.price:.2f}",
                    "Lineitem sku": line.sku,
                    "Lineitem fulfillment status": "fulfilled",
                    "Lineitem discount": "0.00",
                }
            )
            if index == 0:
                city, region, postal = order.city
                row.update(
                    {
                        "Email": f"customer{order.number}@example.com",
                        "Financial Status": "paid",
                        "Paid at": _shopify_time(order.placed_at),
                        "Fulfillment Status": "fulfilled",
                        "Fulfilled at": _shopify_time(order.shipped_at),
                        "Currency": "USD",
                        "Subtotal": f"{order.total:.2f}",
                        "Shipping": "0.00",
                        "Taxes": "0.00",
                        "Total": f"{order.total:.2f}",
                        "Discount Amount": "0.00",
                        "Billing Name": f"Customer {order.number}",
                        "Shipping Name": f"Customer {order.number}",
                        "Shipping Address1": f"{order.number} Main St",
                        "Shipping City": city,
                        "Shipping Zip": postal,
                        "Shipping Province": region,
                        "Shipping Country": "US",
                        "Payment Method": "shopify_payments",
                        "Location": "Shop location",
                        "Id": str(10_000_000 + order.number),
                        "Source": "web",
                    }
                )
            writer.writerow([row[column] for column in SHOPIFY_HEADER])


def write_sterling_xml(out: IO[str], count: int, *, sku_count: int = 100, seed: int = 7) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<OrderList>\n')
    for order in orders(count, sku_count=sku_count, seed=seed):
        city, region, postal = order.city
        out.write(
            f'  <Order DocumentType="0001" EnterpriseCode="DEFAULT" EntryType="Web"'
            f' OrderNo="G{order.number:08d}" OrderDate="{order.placed_at.isoformat()}"'
            f' MaxOrderStatus="3700" Status="Shipped"'
            f' CustomerFirstName="Customer" CustomerLastName={quoteattr(str(order.number))}>\n'
            f'    <PriceInfo Currency="USD" TotalAmount="{order.total:.2f}"/>\n'
            f'    <PersonInfoShipTo AddressLine1="{order.number} Main St" City="{city}"'
            f' State="{region}" ZipCode="{postal}" Country="US" FirstName="Customer"'
            f' LastName="{order.number}"/>\n    <OrderLines>\n'
        )
        for number, line in enumerate(order.lines, start=1):
            out.write(
                f'      <OrderLine PrimeLineNo="{number}" SubLineNo="1"'
                f' OrderedQty="{line.quantity}.00" ShipNode="SHOP">\n'
                f'        <Item ItemID="{line.sku}" UnitOfMeasure="EACH"/>\n'
                f'        <LinePriceInfo UnitPrice="{line.price:.2f}"/>\n'
                f'        <OrderStatuses><OrderStatus Status="3700" StatusQty="{line.quantity}.00"'
                f' ShipNode="SHOP"/></OrderStatuses>\n      </OrderLine>\n'
            )
        out.write("    </OrderLines>\n  </Order>\n")
    out.write("</OrderList>\n")


def write_export(
    path: Path, shape: str, count: int, *, sku_count: int = 100, seed: int = 7
) -> None:
    writers = {"shopify_csv": write_shopify_csv, "sterling_xml": write_sterling_xml}
    with path.open("w", encoding="utf-8", newline="") as out:
        writers[shape](out, count, sku_count=sku_count, seed=seed)
