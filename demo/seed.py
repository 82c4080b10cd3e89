"""Demo data for `make run`: channels, nodes at real US addresses, a catalog, stock at every node,
routing rules, demo orders, an admin account, a web-channel API key, two sample legacy import
jobs (dry runs of migration/examples/) and a channel mid-cutover (demo/cutover.py).

Idempotent: everything is keyed on natural keys (channel and node codes, SKUs, the admin's
username), so a second run updates rows in place and creates nothing new. Two things are
deliberately fresh on every run, because their secrets are shown only once: the admin password
and the `demo storefront` API key (the previous key is revoked). Stock levels that already exist
are left alone: orders placed in the demo may have reserved or shipped against them.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from demo.access import ADMIN_USERNAME, reissue_demo_key, reset_admin
from demo.catalogue import demo_products, upsert_products
from demo.channels import upsert_channels
from demo.cutover import seed_cutover_demo
from demo.edi import connect_demo_edi
from demo.migration import (
    create_sample_import_jobs,
    create_sample_reconciliation,
    create_sample_status_reconciliation,
)
from demo.nodes import upsert_nodes
from demo.orders import place_demo_orders
from demo.returns import place_demo_returns
from demo.reverse import place_reverse_demo_orders
from demo.routing import ensure_default_rule_set
from demo.shopify import connect_demo_shopify
from demo.stock import create_missing_stock
from demo.x12 import connect_demo_3pl
from inventory.models import NodeKind, StockLevel
from ops.kpis.rollups import refresh as refresh_kpi_rollups
from orders.services.api_clients import IssuedKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoData:
    channels: int
    distribution_centers: int
    stores: int
    products: int
    stock_levels: int
    admin_username: str
    admin_password: str
    api_key: IssuedKey
    orders_placed: int = 0
    shopify_order: str = ""
    edi_inbox: dict[str, int] | None = None
    reverse_orders_placed: int = 0

    @property
    def nodes(self) -> int:
        return self.distribution_centers + self.stores


@transaction.atomic
def seed_demo() -> DemoData:
    """Load (or refresh) the demo data set and issue a fresh admin password and web API key."""
    now = timezone.now()
    channels = upsert_channels()
    nodes = upsert_nodes()
    specs = demo_products()
    product_ids = upsert_products(specs)
    create_missing_stock(nodes, [product_ids[s.sku] for s in specs], now)
    ensure_default_rule_set(now)
    password = reset_admin()
    placed = place_demo_orders()
    beanies = [s.sku for s in specs if "-BEANIE-" in s.sku][:3]
    shopify = connect_demo_shopify(beanies)
    edi = connect_demo_edi([s.sku for s in specs if s.sku not in beanies][:6])
    # A 3PL on X12 files, its stock from its 846 (demo/x12.py).
    connect_demo_3pl([s.sku for s in specs if s.sku not in beanies][:6], now)
    reverse_placed = place_reverse_demo_orders()
    place_demo_returns()
    api_key = reissue_demo_key()
    create_sample_import_jobs()
    create_sample_reconciliation()
    create_sample_status_reconciliation()
    seed_cutover_demo(approver_username=ADMIN_USERNAME)
    # The dashboard's daily KPI rollups of the past days, as the beat task keeps them (ADR 15).
    refresh_kpi_rollups()
    result = DemoData(
        channels=channels,
        distribution_centers=sum(1 for n in nodes if n.kind == NodeKind.DISTRIBUTION_CENTER),
        stores=sum(1 for n in nodes if n.kind == NodeKind.STORE),
        products=len(product_ids),
        stock_levels=StockLevel.objects.filter(
            node__in=nodes, product_id__in=product_ids.values()
        ).count(),
        admin_username=ADMIN_USERNAME,
        admin_password=password,
        api_key=api_key,
        orders_placed=placed,
        shopify_order=shopify,
        edi_inbox=edi,
        reverse_orders_placed=reverse_placed,
    )
    logger.info(
        "Demo data seeded: %d channels, %d nodes, %d products, %d stock levels; api client %s",
        result.channels,
        result.nodes,
        result.products,
        result.stock_levels,
        api_key.client.prefix,
    )
    return result
