"""Seed the bench database: channel `web`, one node, N products BENCH-00001.. with stock, an API
key for the `web` channel written to a file (mode 0600), and a history of already captured
orders (lines, order.created events, idempotency keys, and what their orchestration left: a
consumed reservation per line, a shipped fulfillment order with its lines) so that neither the
order tables nor the routing and fulfillment tables are empty.

Why the history: on empty order tables PostgreSQL plans for empty tables, and those plans stay
(row-lock checks of foreign keys are cached per connection) or are wrong (`.first()` lookups
walk an index of every order of the channel), so capture slows down as the run adds orders.
With a few thousand rows and fresh statistics the plans are those of a live system. The same
holds for what orchestration reads (reservations, fulfillment orders and their lines): seeded
empty, bench/run.sh's ANALYZE recorded them as empty, and for the first half minute of the
end-to-end run, until autovacuum analyzed them again, PostgreSQL planned orchestration's reads
for empty tables while they filled (about 3 ms instead of 0.1 for the unassigned reservations'
read, the biggest single cost of the run; pg_stat_statements, docs/performance.md).

Run against a freshly migrated database (bench/run.sh does it):

    DATABASE_URL=... OMS_ALLOW_INSECURE_KEY=1 .venv/bin/python bench/setup_data.py --key-file KEY

Bench code: rows are written with bulk_create (no history rows, no save() hooks).
"""

import argparse
import os
import random
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def sku(index: int) -> str:
    return f"BENCH-{index:05d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-file", required=True, type=Path)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--on-hand", type=int, default=1_000_000)
    parser.add_argument("--history-orders", type=int, default=20_000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()

    from django.db import transaction

    from inventory.models import Node, NodeKind, Product, StockLevel
    from orders.models import Channel
    from orders.services.api_clients import create_api_client

    with transaction.atomic():
        Channel.objects.update_or_create(
            code="web", defaults={"name": "Web shop", "default_currency": "USD"}
        )
        node = Node.objects.create(
            code="bench-dc",
            name="Bench DC",
            kind=NodeKind.DISTRIBUTION_CENTER,
            address_line1="1 Bench Way",
            city="Columbus",
            region="OH",
            postal_code="43004",
            country="US",
            latitude=Decimal("39.961176"),
            longitude=Decimal("-82.998794"),
            can_ship=True,
            # The bench measures throughput, not capacity: at the field's default (1,000 orders a
            # day) routing backorders everything after the first thousand orders, and those
            # never release (the end-to-end bench then waits for them in vain).
            daily_capacity=10_000_000,
        )
        products = Product.objects.bulk_create(
            [
                Product(sku=sku(i), name=f"Bench product {i}", weight_grams=500)
                for i in range(1, args.skus + 1)
            ],
            batch_size=2000,
        )
        StockLevel.objects.bulk_create(
            [StockLevel(node=node, product=p, on_hand=args.on_hand) for p in products],
            batch_size=2000,
        )

    issued = create_api_client(channel_code="web", name="bench")
    args.key_file.touch(mode=0o600)
    args.key_file.write_text(issued.key + "\n")
    seed_history(args.history_orders, products, issued.client)
    print(
        f"seeded: channel web, node {node.code}, {len(products)} products "
        f"{sku(1)}..{sku(args.skus)} with {args.on_hand} on hand, "
        f"api client {issued.client.name!r} ({issued.client.prefix}...), "
        f"{args.history_orders} history orders"
    )


def seed_history(count: int, products: list[Any], client: Any) -> None:
    """`count` captured orders of the last 30 days, 3 lines each, with their order.created
    events and completed idempotency keys, and what their orchestration left behind: per line a
    reservation at bench-dc consumed by the shipment, per order a shipped fulfillment order with
    its lines. Written in bulk: no stock figure moves (consumed reservations hold nothing)."""
    from django.db import transaction
    from django.utils import timezone

    from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, FulfillmentStatus
    from inventory.models import Node, Reservation, ReservationStatus, StockLevel
    from oms.api.models import IdempotencyKey, IdempotencyKeyStatus
    from oms.events.models import Event
    from orders.models import Channel, Order, OrderLine, PaymentStatus

    node = Node.objects.get(code="bench-dc")
    stock_level_of = dict(StockLevel.objects.filter(node=node).values_list("product_id", "id"))

    rng = random.Random(42)
    channel = Channel.objects.get(code="web")
    now = timezone.now()
    price = Decimal("9.99")
    batch = 2000
    for first in range(0, count, batch):
        numbers = range(first + 1, min(count, first + batch) + 1)
        orders, lines, events, keys = [], [], [], []
        for n in numbers:
            placed = now - timedelta(seconds=rng.randint(60, 30 * 86400))
            picked = rng.sample(products, 3)
            qty = [rng.randint(1, 3) for _ in picked]
            total = sum((price * q for q in qty), Decimal("0"))
            order = Order(
                number=f"HIST-{n:07d}",
                channel=channel,
                external_id=f"hist-{n}",
                payment_status=PaymentStatus.AUTHORIZED,
                payment_method="card",
                payment_reference=f"hist-{n}",
                placed_at=placed,
                currency="USD",
                subtotal=total,
                grand_total=total,
                customer_name="History Customer",
                customer_email=f"customer{n % 5000}@example.com",
                ship_name="History Customer",
                ship_line1=f"{n} Main Street",
                ship_city="Columbus",
                ship_region="OH",
                ship_postal_code="43215",
                ship_country="US",
            )
            orders.append(order)
            lines.append(
                [
                    OrderLine(
                        order=order,
                        line_number=i + 1,
                        product=p,
                        sku=p.sku,
                        name=p.name,
                        quantity=q,
                        unit_price=price,
                        total=price * q,
                    )
                    for i, (p, q) in enumerate(zip(picked, qty, strict=True))
                ]
            )
            events.append(
                Event(
                    stream=f"order:{order.number}",
                    seq=1,
                    type="order.created",
                    actor_kind="api_client",
                    actor_id=str(client.pk),
                    actor_label=client.name,
                    occurred_at=placed,
                    payload={
                        "order": {
                            "number": order.number,
                            "external_id": order.external_id,
                            "grand_total": str(total),
                        }
                    },
                )
            )
            keys.append(
                IdempotencyKey(
                    api_client=client,
                    key=f"hist-{n}",
                    method="POST",
                    path="/api/v1/orders/",
                    fingerprint=f"{n:064x}",
                    status=IdempotencyKeyStatus.COMPLETED,
                    response_status=201,
                    response_body={"number": order.number},
                    created_at=placed,
                    expires_at=placed + timedelta(days=7),
                )
            )
        with transaction.atomic():
            Order.objects.bulk_create(orders)
            OrderLine.objects.bulk_create([line for group in lines for line in group])
            Event.objects.bulk_create(events)
            IdempotencyKey.objects.bulk_create(keys)
            shipped = [order.placed_at + timedelta(days=1) for order in orders]
            reservations = Reservation.objects.bulk_create(
                [
                    Reservation(
                        node=node,
                        product_id=line.product_id,
                        stock_level_id=stock_level_of[line.product_id],
                        order_line=line,
                        quantity=line.quantity,
                        consumed_quantity=line.quantity,
                        status=ReservationStatus.CONSUMED,
                        consumed_at=at,
                    )
                    for group, at in zip(lines, shipped, strict=True)
                    for line in group
                ]
            )
            fulfillments = FulfillmentOrder.objects.bulk_create(
                [
                    FulfillmentOrder(
                        number=f"{order.number}-1",
                        order=order,
                        node=node,
                        status=FulfillmentStatus.SHIPPED,
                        delivery_method="ship",
                        service_level="standard",
                        released_at=order.placed_at,
                        shipped_at=at,
                    )
                    for order, at in zip(orders, shipped, strict=True)
                ]
            )
            reservation_of = iter(reservations)
            FulfillmentOrderLine.objects.bulk_create(
                [
                    FulfillmentOrderLine(
                        fulfillment=fo,
                        order_line=line,
                        reservation=next(reservation_of),
                        quantity=line.quantity,
                        shipped_quantity=line.quantity,
                    )
                    for fo, group in zip(fulfillments, lines, strict=True)
                    for line in group
                ]
            )
            # Made when the order was placed, as orchestration would have (auto_now_add wrote
            # today's time): the node-capacity count reads today's reservations only.
            _backdate_orchestration(
                [order.pk for order in orders], Reservation, FulfillmentOrder, FulfillmentOrderLine
            )


def _backdate_orchestration(order_ids: list[int], *models: Any) -> None:
    """created_at/updated_at of the history's reservations, fulfillment orders and their lines
    set to their order's placed_at."""
    from django.db import connection

    from orders.models import Order, OrderLine

    reservation, fulfillment, fulfillment_line = (m._meta.db_table for m in models)
    order, line = Order._meta.db_table, OrderLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {reservation} r SET created_at = o.placed_at, updated_at = o.placed_at
              FROM {line} l JOIN {order} o ON o.id = l.order_id
             WHERE l.id = r.order_line_id AND o.id = ANY(%(ids)s);
            UPDATE {fulfillment} f SET created_at = o.placed_at, updated_at = o.placed_at
              FROM {order} o WHERE o.id = f.order_id AND o.id = ANY(%(ids)s);
            UPDATE {fulfillment_line} fl SET created_at = f.created_at, updated_at = f.created_at
              FROM {fulfillment} f WHERE f.id = fl.fulfillment_id AND f.order_id = ANY(%(ids)s);
            """,  # noqa: S608 - table names from the models, values are parameters
            {"ids": order_ids},
        )


if __name__ == "__main__":
    main()
