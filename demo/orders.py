"""Demo orders for `make run`: a few dozen realistic orders placed through capture_order(), so
the admin shows every kind of order moving through its lifecycle within a minute: shipped from a
DC, split across nodes, shipped from a store, picked up and curbside, backordered, rerouted after
a short pick, and held for fraud review. Placed once: a second seed leaves them alone."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from demo.catalogue import LIMITED_EDITION_SKU
from inventory.models import Node, NodeKind, Product
from oms.core.actors import Actor
from orders.models import Channel, Order
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order

PREFIX = "DEMO-"
ACTOR = Actor.system("seed_demo")

# Real customer addresses' ZIP codes and cities (street lines are illustrative).
CUSTOMERS = [
    ("Ada Lovelace", "10001", "New York", "NY"),
    ("Grace Hopper", "02108", "Boston", "MA"),
    ("Alan Turing", "19103", "Philadelphia", "PA"),
    ("Katherine Johnson", "20001", "Washington", "DC"),
    ("Margaret Hamilton", "30305", "Atlanta", "GA"),
    ("Edsger Dijkstra", "33131", "Miami", "FL"),
    ("Barbara Liskov", "60611", "Chicago", "IL"),
    ("Donald Knuth", "55402", "Minneapolis", "MN"),
    ("Frances Allen", "75201", "Dallas", "TX"),
    ("John Backus", "77027", "Houston", "TX"),
    ("Radia Perlman", "80202", "Denver", "CO"),
    ("Ken Thompson", "85016", "Phoenix", "AZ"),
    ("Adele Goldberg", "98101", "Seattle", "WA"),
    ("Dennis Ritchie", "94103", "San Francisco", "CA"),
    ("Hedy Lamarr", "90036", "Los Angeles", "CA"),
    ("Tim Berners-Lee", "43215", "Columbus", "OH"),
    ("Shafi Goldwasser", "89501", "Reno", "NV"),
    ("Leslie Lamport", "64105", "Kansas City", "MO"),
    ("Fran Bilas", "37203", "Nashville", "TN"),
    ("Jean Sammet", "97205", "Portland", "OR"),
]


def place_demo_orders(count: int = 36) -> int:
    """Place the demo orders unless they exist. Returns how many were placed now."""
    if Order.objects.filter(external_id__startswith=PREFIX).exists():
        return 0
    rng = random.Random(7)  # noqa: S311 - demo data
    channels = {c.code: c for c in Channel.objects.all()}
    skus = list(
        Product.objects.filter(is_active=True).order_by("sku").values_list("sku", flat=True)
    )
    stores = list(Node.objects.filter(kind=NodeKind.STORE, can_pickup=True).order_by("code"))
    now = timezone.now()
    plans = (
        ["ship"] * 14
        + ["split"] * 6
        + ["pickup"] * 6
        + ["curbside"] * 3
        + ["backorder"] * 4
        + ["held"] * 2
        + ["express"] * 1
    )[:count]
    for index, kind in enumerate(plans, start=1):
        name, postal, city, state = CUSTOMERS[index % len(CUSTOMERS)]
        channel = channels["pos" if kind in ("pickup", "curbside") and index % 2 else "web"]
        n_lines = {"split": 5, "backorder": 1}.get(kind, rng.randint(1, 3))
        # Nobody stocks the limited edition (demo/stock.py): its orders wait as backorders
        # until an adjustment brings stock (try it from the README).
        chosen = [LIMITED_EDITION_SKU] if kind == "backorder" else rng.sample(skus, n_lines)
        data = OrderInput(
            external_id=f"{PREFIX}{index:04d}",
            placed_at=now - timedelta(minutes=5 * (len(plans) - index)),
            currency="USD",
            customer_name=name,
            customer_email=f"{name.split()[0].lower()}@example.com",
            delivery_method="ship" if kind not in ("pickup", "curbside") else kind,
            service_level="express" if kind == "express" else "standard",
            pickup_node_code=_store_near(stores, index).code
            if kind in ("pickup", "curbside")
            else "",
            shipping_address=None
            if kind in ("pickup", "curbside")
            else AddressInput(
                name=name,
                line1=f"{100 + index} Main Street",
                city=city,
                region=state,
                postal_code=postal,
                country="US",
            ),
            lines=[
                LineInput(
                    sku=sku,
                    quantity=rng.randint(1, 2),
                    unit_price=Decimal(rng.choice(["19.99", "24.50", "39.00", "8.75"])),
                )
                for sku in chosen
            ],
            shipping_total=Decimal("0.00") if kind in ("pickup", "curbside") else Decimal("5.99"),
            payment_status="authorized",
            payment_method="card",
            payment_reference=f"auth_demo_{index:04d}",
            holds=(("fraud", "demo: score 97 from the fraud screen"),) if kind == "held" else (),
        )
        capture_order(channel=channel, data=data, actor=ACTOR)
    return len(plans)


def _store_near(stores: list[Node], index: int) -> Node:
    return stores[index % len(stores)]
