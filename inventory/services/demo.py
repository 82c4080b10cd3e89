"""Demo data for `make run`: channels, nodes at real US addresses, a catalog, stock at every node,
an admin account and a web-channel API key.

Idempotent: everything is keyed on natural keys (channel and node codes, SKUs, the admin's
username), so a second run updates rows in place and creates nothing new. Two things are
deliberately fresh on every run, because their secrets are shown only once: the admin password
and the `demo storefront` API key (the previous key is revoked). Stock levels that already exist
are left alone: orders placed in the demo may have reserved or shipped against them.
"""

import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fulfillment.selectors import active_rule_set_for
from fulfillment.services.backtest import run_backtest
from fulfillment.services.rulesets import approve_rule_set, create_rule_set, submit_rule_set
from inventory.models import Node, NodeKind, Product, StockLevel, normalize_sku
from inventory.services.ledger import InitialStock, set_initial_stock
from oms.core.actors import Actor
from orders.models import ApiClient, Channel
from orders.services.api_clients import IssuedKey, create_api_client, revoke_api_client
from orders.services.demo_orders import place_demo_orders

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
LIMITED_EDITION_SKU = "LTD-JACKET-CRIMSON-M"
DEMO_CLIENT_NAME = "demo storefront"
DEMO_CLIENT_CHANNEL = "web"
SEED = 42

# Channel code and name.
CHANNELS: tuple[tuple[str, str], ...] = (
    ("web", "Web shop"),
    ("pos", "Stores POS"),
    ("marketplace", "Marketplace"),
)


@dataclass(frozen=True)
class NodeSpec:
    code: str
    name: str
    kind: str
    address_line1: str
    city: str
    region: str
    postal_code: str
    latitude: str
    longitude: str
    timezone: str
    fulfillment_region: str
    daily_capacity: int
    priority: int
    can_pickup: bool = False
    can_curbside: bool = False
    can_ship_from_store: bool = False
    can_accept_returns: bool = False

    @property
    def can_ship(self) -> bool:
        # A DC ships; a store ships only if it does ship-from-store.
        return self.kind != NodeKind.STORE or self.can_ship_from_store


def _dc(code: str, name: str, *address: str, tz: str, region: str) -> NodeSpec:
    line1, city, state, postal, lat, lng = address
    return NodeSpec(
        code=code,
        name=name,
        kind=NodeKind.DISTRIBUTION_CENTER,
        address_line1=line1,
        city=city,
        region=state,
        postal_code=postal,
        latitude=lat,
        longitude=lng,
        timezone=tz,
        fulfillment_region=region,
        daily_capacity=5000,
        priority=10,
    )


def _store(
    code: str,
    name: str,
    *address: str,
    tz: str,
    region: str,
    capacity: int,
    curbside: bool = True,
    ship_from_store: bool = True,
) -> NodeSpec:
    line1, city, state, postal, lat, lng = address
    return NodeSpec(
        code=code,
        name=name,
        kind=NodeKind.STORE,
        address_line1=line1,
        city=city,
        region=state,
        postal_code=postal,
        latitude=lat,
        longitude=lng,
        timezone=tz,
        fulfillment_region=region,
        daily_capacity=capacity,
        priority=50,
        can_pickup=True,
        can_curbside=curbside,
        can_ship_from_store=ship_from_store,
        can_accept_returns=True,
    )


EASTERN, CENTRAL, MOUNTAIN, ARIZONA, PACIFIC = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles",
)  # fmt: skip

# fmt: off
NODES: tuple[NodeSpec, ...] = (
    _dc("dc-columbus", "Columbus Distribution Center",
        "2200 Spiegel Dr", "Groveport", "OH", "43125", "39.8680", "-82.9110",
        tz=EASTERN, region="east"),
    _dc("dc-reno", "Reno Distribution Center",
        "1255 E Greg St", "Sparks", "NV", "89431", "39.5190", "-119.7510",
        tz=PACIFIC, region="west"),
    # East
    _store("store-nyc-herald-square", "New York Herald Square",
           "151 W 34th St", "New York", "NY", "10001", "40.7506", "-73.9888",
           tz=EASTERN, region="east", capacity=150, curbside=False),
    _store("store-bos-downtown", "Boston Downtown Crossing",
           "450 Washington St", "Boston", "MA", "02111", "42.3554", "-71.0605",
           tz=EASTERN, region="east", capacity=80, ship_from_store=False),
    _store("store-phl-center-city", "Philadelphia Center City",
           "1625 Chestnut St", "Philadelphia", "PA", "19103", "39.9516", "-75.1680",
           tz=EASTERN, region="east", capacity=100),
    _store("store-dc-columbia-heights", "Washington Columbia Heights",
           "3100 14th St NW", "Washington", "DC", "20010", "38.9289", "-77.0325",
           tz=EASTERN, region="east", capacity=90),
    _store("store-atl-buckhead", "Atlanta Buckhead",
           "3393 Peachtree Rd NE", "Atlanta", "GA", "30326", "33.8463", "-84.3620",
           tz=EASTERN, region="east", capacity=120),
    _store("store-mia-brickell", "Miami Brickell",
           "701 S Miami Ave", "Miami", "FL", "33131", "25.7667", "-80.1936",
           tz=EASTERN, region="east", capacity=90),
    # Central
    _store("store-chi-michigan-ave", "Chicago Michigan Avenue",
           "835 N Michigan Ave", "Chicago", "IL", "60611", "41.8978", "-87.6237",
           tz=CENTRAL, region="central", capacity=140, curbside=False),
    _store("store-msp-nicollet", "Minneapolis Nicollet Mall",
           "900 Nicollet Mall", "Minneapolis", "MN", "55402", "44.9746", "-93.2737",
           tz=CENTRAL, region="central", capacity=70),
    _store("store-dal-north-central", "Dallas North Central",
           "8687 N Central Expy", "Dallas", "TX", "75225", "32.8687", "-96.7735",
           tz=CENTRAL, region="central", capacity=130),
    _store("store-hou-uptown", "Houston Uptown",
           "5085 Westheimer Rd", "Houston", "TX", "77056", "29.7390", "-95.4634",
           tz=CENTRAL, region="central", capacity=130),
    # West
    _store("store-den-16th-street", "Denver 16th Street",
           "500 16th St", "Denver", "CO", "80202", "39.7437", "-104.9902",
           tz=MOUNTAIN, region="west", capacity=80),
    _store("store-phx-camelback", "Phoenix Camelback",
           "2502 E Camelback Rd", "Phoenix", "AZ", "85016", "33.5094", "-112.0276",
           tz=ARIZONA, region="west", capacity=60),
    _store("store-sea-westlake", "Seattle Westlake",
           "400 Pine St", "Seattle", "WA", "98101", "47.6119", "-122.3374",
           tz=PACIFIC, region="west", capacity=100),
    _store("store-sf-market-street", "San Francisco Market Street",
           "865 Market St", "San Francisco", "CA", "94103", "37.7841", "-122.4073",
           tz=PACIFIC, region="west", capacity=110),
    _store("store-la-fairfax", "Los Angeles Fairfax",
           "189 The Grove Dr", "Los Angeles", "CA", "90036", "34.0721", "-118.3578",
           tz=PACIFIC, region="west", capacity=150),
)
# fmt: on

COLORS: dict[str, str] = {
    "BLK": "Black", "NVY": "Navy", "GRY": "Heather Grey", "OLV": "Olive", "WHT": "White",
    "RST": "Rust", "SKY": "Sky Blue", "CRM": "Cream", "SGE": "Sage", "CHR": "Charcoal",
    "SND": "Sand", "BRG": "Burgundy",
}  # fmt: skip
APPAREL_SIZES = ("S", "M", "L", "XL")
SIZE_WEIGHT = {"S": 0.92, "M": 1.0, "L": 1.08, "XL": 1.16}
SIZE_LABELS = {"TWIN": "Twin", "FULL": "Full", "QUEEN": "Queen", "KING": "King"}


@dataclass(frozen=True)
class Family:
    """A product with its variants: `colors` of COLORS drawn at random, times every size."""

    department: str
    code: str
    name: str
    grams: int
    colors: int
    sizes: tuple[str, ...] = ()


# fmt: off
FAMILIES: tuple[Family, ...] = (
    # Apparel: 10 styles × 4 colors × 4 sizes
    Family("APP", "TSHIRT", "Organic Cotton T-Shirt", 180, 4, APPAREL_SIZES),
    Family("APP", "HENLEY", "Long-Sleeve Waffle Henley", 260, 4, APPAREL_SIZES),
    Family("APP", "HOODIE", "Midweight Pullover Hoodie", 620, 4, APPAREL_SIZES),
    Family("APP", "CREW", "Merino Crewneck Sweater", 380, 4, APPAREL_SIZES),
    Family("APP", "FLANNEL", "Brushed Flannel Shirt", 340, 4, APPAREL_SIZES),
    Family("APP", "CHINO", "Slim Stretch Chino", 450, 4, APPAREL_SIZES),
    Family("APP", "JOGGER", "French Terry Jogger", 420, 4, APPAREL_SIZES),
    Family("APP", "RAINJKT", "Packable Rain Jacket", 310, 4, APPAREL_SIZES),
    Family("APP", "PUFFER", "Recycled Down Puffer Jacket", 520, 4, APPAREL_SIZES),
    Family("APP", "FLEECE", "Quarter-Zip Fleece", 400, 4, APPAREL_SIZES),
    # Home
    Family("HOM", "MUG", "Stoneware Mug 12 oz", 390, 5),
    Family("HOM", "TOWEL", "Turkish Cotton Bath Towel", 650, 5),
    Family("HOM", "THROW", "Chunky Knit Throw Blanket", 1800, 4),
    Family("HOM", "PILLOW", "Linen Pillow Cover 20x20", 210, 5),
    Family("HOM", "SHEETS", "Percale Sheet Set", 1600, 2, ("TWIN", "FULL", "QUEEN", "KING")),
    Family("HOM", "DUVET", "Washed Linen Duvet Cover", 1900, 2, ("FULL", "QUEEN", "KING")),
    Family("HOM", "APRON", "Canvas Kitchen Apron", 280, 3),
    # Outdoor
    Family("OUT", "BOTTLE", "Insulated Water Bottle 24 oz", 430, 5),
    Family("OUT", "DAYPACK", "Trail Daypack 22L", 820, 3),
    Family("OUT", "HEADLAMP", "Rechargeable Headlamp 400 lm", 95, 2),
    Family("OUT", "CHAIR", "Folding Camp Chair", 2300, 3),
    Family("OUT", "HAMMOCK", "Ultralight Hammock", 540, 3),
    Family("OUT", "COOLER", "Soft Cooler 24-Can", 1400, 3),
    Family("OUT", "SOCKS", "Merino Hiking Socks", 85, 2, ("S", "M", "L")),
    Family("OUT", "BEANIE", "Ribbed Wool Beanie", 90, 4),
)
# fmt: on


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    weight_grams: int


def demo_products() -> list[ProductSpec]:
    """The catalog, the same on every call: variants and weights come from Random(42)."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    products: list[ProductSpec] = []
    for family in FAMILIES:
        for color in rng.sample(sorted(COLORS), family.colors):
            for size in family.sizes or ("",):
                factor = SIZE_WEIGHT.get(size, 1.0)
                grams = round(family.grams * factor * rng.uniform(0.97, 1.03))
                sku = "-".join(
                    part for part in (family.department, family.code, color, size) if part
                )
                size_label = SIZE_LABELS.get(size, size)
                label = ", ".join(p for p in (family.name, COLORS[color], size_label) if p)
                products.append(ProductSpec(sku=normalize_sku(sku), name=label, weight_grams=grams))
    # Nobody has this one: its orders wait as backorders until stock arrives (README).
    products.append(
        ProductSpec(
            sku=LIMITED_EDITION_SKU, name="Limited Edition Jacket, Crimson, M", weight_grams=900
        )
    )
    return products


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

    @property
    def nodes(self) -> int:
        return self.distribution_centers + self.stores


@transaction.atomic
def seed_demo() -> DemoData:
    """Load (or refresh) the demo data set and issue a fresh admin password and web API key."""
    now = timezone.now()
    for code, name in CHANNELS:
        Channel.objects.update_or_create(
            code=code, defaults={"name": name, "default_currency": "USD", "is_active": True}
        )
    nodes = [_upsert_node(spec) for spec in NODES]
    specs = demo_products()
    Product.objects.bulk_create(
        [Product(sku=s.sku, name=s.name, weight_grams=s.weight_grams) for s in specs],
        update_conflicts=True,
        unique_fields=["sku"],
        update_fields=["name", "weight_grams", "updated_at"],
    )
    product_ids = dict(
        Product.objects.filter(sku__in=[s.sku for s in specs]).values_list("sku", "pk")
    )
    _create_missing_stock(nodes, [product_ids[s.sku] for s in specs], now)
    _ensure_default_rule_set(now)
    password = _reset_admin()
    placed = place_demo_orders()
    api_key = _reissue_demo_key()
    result = DemoData(
        channels=Channel.objects.filter(code__in=[code for code, _ in CHANNELS]).count(),
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


# The demo's routing rules: stores keep one unit of each product for walk-in shoppers, and
# express ships only from distribution centers (the built-in default for service levels).
DEMO_RULES = {"filters": {"store_min_stock": 1}}


def _ensure_default_rule_set(now: datetime) -> None:
    """An active default rule set, so routing in the demo is rule-driven and shows on orders.
    Seeded by the system, so it skips maker-checker (which needs two people); it still goes
    through submit, backtest and approve like any rule set."""
    if active_rule_set_for(None) is not None:
        return
    rule_set = create_rule_set(
        key="default",
        name="Default routing",
        config=DEMO_RULES,
        author=None,
        description="Seeded by seed_demo: nearest node that can ship everything, fewest splits.",
    )
    submit_rule_set(rule_set_id=rule_set.pk, user=None)
    run_backtest(
        rule_set_id=rule_set.pk, period_from=now - timedelta(days=30), period_to=now, user=None
    )
    approve_rule_set(rule_set_id=rule_set.pk, approver=None, note="seeded for the demo")


# How each demo node takes its work. The DCs run the simulated WMS (Columbus ships everything,
# Reno comes up one unit short on its first line, so some orders show a reroute); stores use
# the store screens (connector "api"), so their pickups and ship-from-store picks wait there.
DEMO_CONNECTORS: dict[str, tuple[str, dict[str, object]]] = {
    "dc-columbus": ("simulated", {"behaviour": "ship", "step_seconds": 3}),
    "dc-reno": ("simulated", {"behaviour": "short", "step_seconds": 3}),
}


def _upsert_node(spec: NodeSpec) -> Node:
    node, _ = Node.objects.update_or_create(
        code=spec.code,
        defaults={
            "name": spec.name,
            "kind": spec.kind,
            "address_line1": spec.address_line1,
            "city": spec.city,
            "region": spec.region,
            "postal_code": spec.postal_code,
            "country": "US",
            "latitude": Decimal(spec.latitude),
            "longitude": Decimal(spec.longitude),
            "timezone": spec.timezone,
            "fulfillment_region": spec.fulfillment_region,
            "can_ship": spec.can_ship,
            "can_pickup": spec.can_pickup,
            "can_curbside": spec.can_curbside,
            "can_ship_from_store": spec.can_ship_from_store,
            "can_accept_returns": spec.can_accept_returns,
            "daily_capacity": spec.daily_capacity,
            "priority": spec.priority,
            "is_active": True,
            "connector": DEMO_CONNECTORS.get(spec.code, ("api", {}))[0],
            "connector_settings": DEMO_CONNECTORS.get(spec.code, ("api", {}))[1],
        },
    )
    return node


def _create_missing_stock(nodes: list[Node], product_ids: list[int], now: datetime) -> None:
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


def _reset_admin() -> str:
    """Make sure the `admin` superuser exists and give it a new password, which is returned."""
    user, _ = get_user_model().objects.update_or_create(
        username=ADMIN_USERNAME,
        defaults={"is_staff": True, "is_superuser": True, "is_active": True},
    )
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


def _reissue_demo_key() -> IssuedKey:
    """Revoke the previous demo storefront key(s), then issue a new one (shown once)."""
    previous = ApiClient.objects.filter(
        channel__code=DEMO_CLIENT_CHANNEL, name=DEMO_CLIENT_NAME, revoked_at__isnull=True
    ).values_list("pk", flat=True)
    for client_id in list(previous):
        revoke_api_client(client_id=client_id)
    return create_api_client(channel_code=DEMO_CLIENT_CHANNEL, name=DEMO_CLIENT_NAME)
