"""The demo's fulfillment network: two distribution centers and fifteen stores at real US
addresses, and how each takes its work (its connector)."""

from dataclasses import dataclass
from decimal import Decimal

from inventory.models import Node, NodeKind


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

# How each demo node takes its work. The DCs run the simulated WMS (Columbus ships everything,
# Reno comes up one unit short on its first line, so some orders show a reroute); stores use
# the store screens (connector "api"), so their pickups and ship-from-store picks wait there.
DEMO_CONNECTORS: dict[str, tuple[str, dict[str, object]]] = {
    "dc-columbus": ("simulated", {"behaviour": "ship", "step_seconds": 3}),
    "dc-reno": ("simulated", {"behaviour": "short", "step_seconds": 3}),
}


def upsert_nodes() -> list[Node]:
    """Create or refresh every demo node, in NODES order."""
    return [upsert_node(spec) for spec in NODES]


def upsert_node(spec: NodeSpec) -> Node:
    connector, connector_settings = DEMO_CONNECTORS.get(spec.code, ("api", {}))
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
            "connector": connector,
            "connector_settings": connector_settings,
        },
    )
    return node
