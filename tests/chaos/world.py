"""The Django side of the fault tests, run as `python -m tests.chaos.world <command>` in a
process whose DATABASE_URL is the test's own PostgreSQL (tests/chaos/harness.py). The test
process itself never opens a database connection: it only drives processes and HTTP.

    setup <receiver url> <n orders>
                           a channel and its API key, two DCs, three SKUs with limited stock (more
                           orders than units, so some must backorder), a webhook subscription to
                           every order event; prints the key and the subscription's secret
    report                 the figures the tests assert on (one JSON line)
    serve                  answer `report` for every line read from stdin, one JSON line each,
                           closing its connection after each (it outlives a database restart)
"""

import json
import sys
from collections import Counter
from decimal import Decimal

# Stock is short on purpose: 85 % of the orders' units, over two nodes for CHAOS-A. N one-unit
# orders go round-robin over the SKUs; routing must reserve each unit at most once (0 oversold)
# and backorder the rest.
SHARES = {
    ("dc-east", "CHAOS-A"): 0.20,
    ("dc-west", "CHAOS-A"): 0.15,
    ("dc-east", "CHAOS-B"): 0.25,
    ("dc-west", "CHAOS-C"): 0.25,
}
# The webhook subscription: every order event (created, routed, backordered, status changes).
EVENT_TYPES = ["order.*"]


def stock_for(n_orders: int) -> dict[tuple[str, str], int]:
    return {key: int(n_orders * share) for key, share in SHARES.items()}


SKUS = ["CHAOS-A", "CHAOS-B", "CHAOS-C"]


def setup(receiver_url: str, n_orders: str) -> dict:
    from django.utils import timezone

    from inventory.models import Node, NodeKind, Product
    from inventory.services.ledger import InitialStock, set_initial_stock
    from oms.core.actors import Actor
    from orders.models import Channel
    from orders.services.api_clients import create_api_client
    from webhooks.subscriptions import create_subscription

    actor = Actor.system("chaos setup")
    Channel.objects.get_or_create(code="web", defaults={"name": "Web shop"})
    key = create_api_client(channel_code="web", name="chaos client").key
    nodes = {
        "dc-east": Node.objects.create(
            code="dc-east",
            name="Columbus DC",
            kind=NodeKind.DISTRIBUTION_CENTER,
            city="Columbus",
            region="OH",
            postal_code="43215",
            latitude=Decimal("39.961176"),
            longitude=Decimal("-82.998794"),
            priority=10,
        ),
        "dc-west": Node.objects.create(
            code="dc-west",
            name="Reno DC",
            kind=NodeKind.DISTRIBUTION_CENTER,
            city="Reno",
            region="NV",
            postal_code="89501",
            latitude=Decimal("39.53"),
            longitude=Decimal("-119.75"),
            priority=20,
        ),
    }
    products = {sku: Product.objects.create(sku=sku, name=f"Chaos {sku}") for sku in SKUS}
    stock = stock_for(int(n_orders))
    for node_code, node in nodes.items():
        levels = [
            InitialStock(product_id=products[sku].pk, on_hand=units, safety_stock=0)
            for (code, sku), units in stock.items()
            if code == node_code
        ]
        set_initial_stock(node_id=node.pk, levels=levels, actor=actor, reported_at=timezone.now())
    sub = create_subscription(name="chaos receiver", url=receiver_url, event_types=EVENT_TYPES)
    return {"key": key, "secret": sub.secret, "units": sum(stock.values())}


def report() -> dict:
    from django.db.models import Count, Min, Sum

    from fulfillment.models import RoutingDecision, RoutingTrigger
    from integrations.models import WebhookDelivery
    from inventory.models import Reservation, ReservationStatus, StockLevel
    from inventory.selectors import find_ledger_mismatches
    from oms.events.models import Event
    from orders.models import Order, OrderLine

    orders = list(Order.objects.values("external_id", "number", "status"))
    # how long orders waited to be routed, and how many the sweeper had to route (their
    # message was lost): the sweeper's delay is what ADR 9 bounds
    first_routing = list(
        Order.objects.annotate(routed_at=Min("routing_decisions__created_at"))
        .filter(routed_at__isnull=False)
        .values_list("created_at", "routed_at")
    )
    by_sweeper = list(
        RoutingDecision.objects.filter(trigger=RoutingTrigger.SWEEPER).values_list(
            "order__created_at", "created_at"
        )
    )
    by_external = Counter(o["external_id"] for o in orders)
    levels = list(StockLevel.objects.values("id", "on_hand", "reserved", "available"))
    active = dict(
        Reservation.objects.filter(status=ReservationStatus.ACTIVE)
        .values("stock_level_id")
        .annotate(q=Sum("quantity"))
        .values_list("stock_level_id", "q")
    )
    # an order line reserved more than its quantity (routed twice) is a duplicate too
    over_reserved_lines = (
        OrderLine.objects.annotate(
            r=Sum("reservations__quantity", default=0),
        )
        .filter(r__gt=0)
        .values_list("id", "quantity", "r")
    )
    return {
        "orders": {o["external_id"]: o["status"] for o in orders},
        "numbers": {o["number"]: o["external_id"] for o in orders},
        "duplicate_external_ids": sorted(k for k, n in by_external.items() if n > 1),
        "status_counts": dict(Counter(o["status"] for o in orders)),
        "oversold_levels": [lv["id"] for lv in levels if lv["reserved"] > lv["on_hand"]],
        "reserved_units": sum(lv["reserved"] for lv in levels),
        "reservation_counter_mismatches": [
            lv["id"] for lv in levels if lv["reserved"] != active.get(lv["id"], 0)
        ],
        "over_reserved_lines": [line for line in over_reserved_lines if line[2] > line[1]],
        "ledger_mismatches": len(find_ledger_mismatches()),
        "max_wait_to_route_s": round(
            max(((r - c).total_seconds() for c, r in first_routing), default=0.0), 1
        ),
        "routed_by_sweeper": len(by_sweeper),
        "max_wait_routed_by_sweeper_s": round(
            max(((r - c).total_seconds() for c, r in by_sweeper), default=0.0), 1
        ),
        "events": [
            str(e)
            for e in Event.objects.filter(type__startswith="order.").values_list(
                "event_id", flat=True
            )
        ],
        "deliveries": dict(
            WebhookDelivery.objects.values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        ),
    }


def serve() -> None:
    from django.db import connections

    for _line in sys.stdin:
        try:
            result = report()
        except Exception as exc:  # noqa: BLE001 - the database may be down: say so, go on
            result = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            connections.close_all()
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        sys.stdout.flush()


def main() -> None:
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command == "serve":
        serve()
        return
    result = {"setup": setup, "report": report}[command](*args)
    sys.stdout.write(json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
