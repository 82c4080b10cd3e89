"""Opening stock for the demo: every node holds every product (stores 0-25 units with a safety
stock of 1-2, distribution centers 50-500), except the limited edition, which nobody has."""

import random
from datetime import datetime

from demo.catalogue import LIMITED_EDITION_SKU, SEED
from inventory.models import Node, NodeKind, Product
from inventory.services.ledger import InitialStock, set_initial_stock
from oms.core.actors import Actor


def create_missing_stock(nodes: list[Node], product_ids: list[int], now: datetime) -> None:
    """Opening stock through the ledger (set_initial_stock), so ledger == counters from the
    start. Existing rows are left alone: demo orders may have reserved against them."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    limited = Product.objects.filter(sku=LIMITED_EDITION_SKU).values_list("pk", flat=True).first()
    for node in nodes:
        set_initial_stock(
            node_id=node.pk,
            levels=[
                InitialStock(
                    product_id=product_id,
                    on_hand=_opening_count(rng, node, product_id == limited),
                    safety_stock=rng.randint(1, 2) if node.kind == NodeKind.STORE else 0,
                )
                for product_id in product_ids
            ],
            actor=Actor.system("seed_demo"),
            reported_at=now,
        )


def _opening_count(rng: random.Random, node: Node, is_limited: bool) -> int:
    count = rng.randint(0, 25) if node.kind == NodeKind.STORE else rng.randint(50, 500)
    return 0 if is_limited else count  # draw anyway: the other products' counts stay stable
