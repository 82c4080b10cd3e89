"""Read queries of the inventory app, reused by the API, the admin, services and reports."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import compress, repeat
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.exceptions import InventoryErrorCode, UnknownPostalCode
from inventory.models import (
    InventoryMovement,
    MovementReason,
    Node,
    NodeNetworkVersion,
    NodeQuerySet,
    NodeReconciliation,
    Oversell,
    Product,
    Reservation,
    ReservationStatus,
    StockLevel,
    normalize_sku,
    normalize_upc,
)
from oms.core.errors import FieldError, InvalidInput
from oms.core.geo import haversine_miles, resolve_postal_code
from oms.core.queries import CompiledLookup, bound_cursor

MAX_AVAILABILITY_SKUS = 50


# Products by SKU on every order capture: the SQL compiled once per thread and count, the SKUs
# bound by the server and the statement prepared per count (oms/core/queries.py); the rows are
# read on every call.
_products_by_skus: CompiledLookup[Product] = CompiledLookup(
    lambda skus: Product.objects.filter(sku__in=skus), bound=True
)


def products_by_sku(skus: list[str]) -> dict[str, Product]:
    """Active and inactive products keyed by normalised SKU (callers decide what inactive means)."""
    wanted = sorted({normalize_sku(s) for s in skus})
    return {p.sku: p for p in _products_by_skus.rows(wanted)}


def products_by_upc(values: Iterable[str | None]) -> dict[str, Product]:
    """Products keyed by canonical UPC (normalize_upc) for those of `values` that are UPC/GTIN
    codes of a product; values that are not such codes are skipped."""
    wanted = {code for value in values if (code := normalize_upc(value))}
    if not wanted:
        return {}
    return {p.upc: p for p in Product.objects.filter(upc__in=wanted)}


def pickup_nodes() -> NodeQuerySet:
    return Node.objects.pickup_points()


def get_node_by_code(code: str) -> Node | None:
    return Node.objects.filter(code=code).first()


def node_accepts_feeds_from(*, node_code: str, client_node_id: int | None) -> bool:
    """May an API client whose key speaks for node `client_node_id` (None: a channel's key)
    send stock feeds for `node_code`? Only for its own node (least privilege: a storefront's
    key must not be able to zero a DC with a snapshot)."""
    if client_node_id is None:
        return False
    return Node.objects.filter(pk=client_node_id, code=node_code).exists()


def stale_nodes(max_age: timedelta) -> NodeQuerySet:
    """Active nodes that have reported nothing for `max_age`: no snapshot and no stock row
    counted since then (or never). Their stock figures may no longer be true."""
    cutoff = timezone.now() - max_age
    return (
        Node.objects.active()
        .annotate(last_reported_at=Max("stock_levels__last_reported_at"))
        .filter(
            Q(last_snapshot_at__isnull=True) | Q(last_snapshot_at__lt=cutoff),
            Q(last_reported_at__isnull=True) | Q(last_reported_at__lt=cutoff),
        )
        .order_by("code")
    )


# --- ledger ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerMismatch:
    stock_level_id: int
    node_id: int
    product_id: int
    sku: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    ledger_reserved: int


def _ledger_sum(field: str) -> Coalesce:
    per_stock = (
        InventoryMovement.objects.filter(
            node_id=OuterRef("node_id"), product_id=OuterRef("product_id")
        )
        .order_by()
        .values("node_id", "product_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(per_stock, output_field=IntegerField()), Value(0))


def find_ledger_mismatches(
    *, node_id: int | None = None, product_ids: list[int] | None = None
) -> list[LedgerMismatch]:
    """Stock levels whose counters differ from the sum of their ledger deltas (one query)."""
    levels = StockLevel.objects.all()
    if node_id is not None:
        levels = levels.filter(node_id=node_id)
    if product_ids is not None:
        levels = levels.filter(product_id__in=product_ids)
    rows = (
        levels.annotate(
            ledger_on_hand=_ledger_sum("delta_on_hand"),
            ledger_reserved=_ledger_sum("delta_reserved"),
        )
        .filter(~Q(on_hand=F("ledger_on_hand")) | ~Q(reserved=F("ledger_reserved")))
        .order_by("node_id", "product_id")
        .values_list(
            "pk",
            "node_id",
            "product_id",
            "product__sku",
            "on_hand",
            "ledger_on_hand",
            "reserved",
            "ledger_reserved",
        )
    )
    return [LedgerMismatch(*row) for row in rows]


@dataclass(frozen=True)
class AwaitingCount:
    """A SKU a node came up short on and has not counted since (a cycle count is due)."""

    sku: str
    short: int  # units written off since the last count
    last_short_at: datetime
    last_counted_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "short": self.short,
            "last_short_at": self.last_short_at.isoformat(),
            "last_counted_at": self.last_counted_at.isoformat() if self.last_counted_at else None,
        }


def skus_awaiting_count(node_id: int) -> list[AwaitingCount]:
    """The node's SKUs with a `shortage` movement later than their last count, by SKU.

    A count is a snapshot, which sets the stock row's `last_reported_at` to its `as_of`: a
    snapshot counted as of a time after the shortage covers it; one counted before does not (it
    cannot reflect what the pick found). An adjustment is a delta, not a count, and covers
    nothing. Derived from the ledger and the stock rows only, so the console can re-check it at
    any time (ops/services/reconcile.py).
    """
    counted_at = StockLevel.objects.filter(
        node_id=OuterRef("node_id"), product_id=OuterRef("product_id")
    ).values("last_reported_at")[:1]
    rows = (
        InventoryMovement.objects.filter(node_id=node_id, reason=MovementReason.SHORTAGE)
        .annotate(counted_at=Subquery(counted_at))
        .filter(Q(counted_at__isnull=True) | Q(occurred_at__gt=F("counted_at")))
        .order_by()
        .values("product__sku", "counted_at")
        .annotate(short=Sum("delta_reserved"), last_short_at=Max("occurred_at"))
        .order_by("product__sku")
    )
    return [
        AwaitingCount(
            sku=row["product__sku"],
            short=-row["short"],
            last_short_at=row["last_short_at"],
            last_counted_at=row["counted_at"],
        )
        for row in rows
    ]


def recent_movements(stock_level: StockLevel, limit: int = 50) -> list[InventoryMovement]:
    """The last `limit` ledger rows of one stock level, newest first."""
    return list(
        InventoryMovement.objects.filter(
            node_id=stock_level.node_id, product_id=stock_level.product_id
        ).order_by("-id")[:limit]
    )


# --- admin querysets (staff see every node; the admin applies permissions) ------------------


def stock_levels_for_staff() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("node", "product")


def movements_for_staff() -> QuerySet[InventoryMovement]:
    return InventoryMovement.objects.select_related("node", "product")


def reservations_for_staff() -> QuerySet[Reservation]:
    return Reservation.objects.select_related("node", "product", "order_line")


def oversells_for_staff() -> QuerySet[Oversell]:
    return Oversell.objects.select_related("node", "product")


def active_reservations_for_order_lines(order_line_ids: list[int]) -> QuerySet[Reservation]:
    return Reservation.objects.filter(
        order_line_id__in=order_line_ids, status=ReservationStatus.ACTIVE
    ).order_by("pk")


# --- availability ------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    state: str

    @property
    def coordinates(self) -> tuple[float, float]:
        return (self.latitude, self.longitude)


class NodeAvailability(NamedTuple):
    """One SKU at one serving node (a tuple: 600 of them for 3 SKUs over 200 nodes)."""

    node: str
    kind: str
    available: int
    distance_miles: float | None
    can_ship: bool
    can_pickup: bool


class ServingNode(NamedTuple):
    """A node that could serve the address, with what is the same for every SKU."""

    node: str
    kind: str
    distance_miles: float | None
    can_ship: bool
    can_pickup: bool


@dataclass(frozen=True)
class SkuAvailability:
    sku: str
    is_active: bool
    network_available: int
    # max(available, 0) per node of `serving`, in its order (the API renders these directly).
    available: tuple[int, ...]
    serving: tuple[ServingNode, ...]

    @property
    def nodes(self) -> tuple[NodeAvailability, ...]:
        return tuple(
            NodeAvailability(n.node, n.kind, units, n.distance_miles, n.can_ship, n.can_pickup)
            for n, units in zip(self.serving, self.available, strict=True)
        )


@dataclass(frozen=True)
class Availability:
    postal_code: str
    country: str
    location: Location | None
    pickup_radius_miles: float
    # The nodes that could serve the address, nearest first (no address: by code), shared by
    # every item.
    serving: tuple[ServingNode, ...]
    items: tuple[SkuAvailability, ...]


def get_availability(
    *, skus: list[str], postal_code: str, country: str, pickup_radius_miles: float
) -> Availability:
    """What each SKU has to offer a customer at (postal_code, country), in one statement.

    `network_available` sums max(available, 0) over active nodes that ship. `nodes` lists the
    active nodes that could serve the address: every shipping node, and pickup nodes within
    `pickup_radius_miles` (only when the address has coordinates: US ZIP codes, offline).
    A negative `available` (a node counted fewer units than it has reserved) shows as 0.
    Raises InvalidInput (unknown SKU, more than 50 SKUs) and UnknownPostalCode (US only).

    Stock is read on every call (no cache: a reservation is gone from the very next answer):
    the products by SKU with their stock rows, and the node network's version token, in one
    statement. The nodes themselves (code, kind, coordinates, capabilities) and the serving
    list per address are kept per process while that token is unchanged (_NodeNetwork): a
    node added, deleted, deactivated or edited changes the token in its own transaction
    (NodeNetworkVersion), so the very next answer reads the nodes again. A storefront calls
    this on every product and cart page, so it reads tuples, not model instances.
    """
    wanted = list(dict.fromkeys(normalize_sku(s) for s in skus))
    if len(wanted) > MAX_AVAILABILITY_SKUS:
        raise InvalidInput(
            [
                FieldError(
                    InventoryErrorCode.TOO_MANY_SKUS,
                    f"Ask for at most {MAX_AVAILABILITY_SKUS} SKUs at a time, not {len(wanted)}.",
                    "sku",
                )
            ]
        )
    country = country.strip().upper() or "US"
    location = _locate(postal_code.strip(), country)
    products: dict[str, tuple[int, bool]] = {}
    stock: dict[int, dict[int, int]] = {}
    # Bound by the server: prepared after a few requests for each number of SKUs, so
    # PostgreSQL stops planning it (about 0.2 ms of its CPU per request).
    by_product = connection.vendor == "postgresql"
    with bound_cursor(connection, binary=by_product) as cursor:
        statement = _availability_sql("stock" if by_product else "stock rows", len(wanted))
        cursor.execute(statement, wanted)
        rows = cursor.fetchall()
    if by_product:
        # One row per product: its stock rows' node ids and max(available, 0), two arrays in
        # the same order (NULL when it has none). dict(zip()) does in C what a loop over the
        # 600 rows of 3 SKUs at 200 nodes did in Python.
        for product_id, sku, is_active, node_ids, levels, _ in rows:
            products[sku] = (product_id, bool(is_active))
            stock[product_id] = {} if node_ids is None else dict(zip(node_ids, levels, strict=True))
    else:
        for product_id, sku, is_active, node_id, available, _ in rows:
            levels = stock.get(product_id)
            if levels is None:
                products[sku] = (product_id, bool(is_active))
                levels = stock[product_id] = {}
            if node_id is not None:  # a stock row of the product (max(available, 0))
                levels[node_id] = available
    unknown = [
        FieldError(InventoryErrorCode.UNKNOWN_SKU, f"No product with SKU {sku!r}.", f"sku[{i}]")
        for i, sku in enumerate(wanted)
        if sku not in products
    ]
    if unknown:
        raise InvalidInput(unknown)
    serving = _node_network(rows[0][5]).serving(location, pickup_radius_miles)
    node_ids = serving.node_ids
    count = len(node_ids)
    items = []
    for sku in wanted:
        product_id, is_active = products[sku]
        available = tuple(map(stock[product_id].get, node_ids, repeat(0, count)))
        items.append(
            SkuAvailability(
                sku=sku,
                is_active=is_active,
                network_available=sum(compress(available, serving.shipping)),
                available=available,
                serving=serving.nodes,
            )
        )
    return Availability(
        postal_code=postal_code.strip(),
        country=country,
        location=location,
        pickup_radius_miles=pickup_radius_miles,
        serving=serving.nodes,
        items=tuple(items),
    )


class _ServingList(NamedTuple):
    nodes: tuple[ServingNode, ...]  # nearest first (no address: by code)
    node_ids: tuple[int, ...]  # the same order
    shipping: tuple[bool, ...]  # the same order: counts in network_available


class _NodeNetwork:
    """The active nodes that ship or offer pickup, as read with version token `token`, and
    the serving lists computed from them per (location, radius). Nothing about stock.

    Kept per process (module global) only when the token is known; a changed token replaces
    it as a whole. Serving lists are kept for up to MAX_SERVING_LISTS addresses (then all are
    dropped and computed again as asked for): about 30 kB each at 200 nodes, and the API's
    template of each as much again (inventory/api/serializers.py)."""

    MAX_SERVING_LISTS = 512

    def __init__(self, token: int | None, rows: list[tuple[Any, ...]]) -> None:
        self.token = token
        self.rows = rows
        self._serving: dict[tuple[float | None, float | None, float], _ServingList] = {}

    def serving(self, location: Location | None, radius: float) -> _ServingList:
        key = (None, None, radius) if location is None else (*location.coordinates, radius)
        found = self._serving.get(key)
        if found is None:
            if len(self._serving) >= self.MAX_SERVING_LISTS:
                self._serving.clear()
            found = self._serving[key] = self._compute(location, radius)
        return found

    def _compute(self, location: Location | None, radius: float) -> _ServingList:
        serving: list[tuple[tuple[tuple[int, float], str], int, ServingNode]] = []
        for node_id, code, kind, latitude, longitude, can_ship, pickup, _ in self.rows:
            ships = bool(can_ship)
            distance = (
                None
                if location is None
                else _distance_miles(location.latitude, location.longitude, latitude, longitude)
            )
            picks_up = bool(pickup) and distance is not None and distance <= radius
            if ships or picks_up:
                order = (0, distance) if distance is not None else (1, 0.0)
                serving.append(
                    ((order, code), node_id, ServingNode(code, kind, distance, ships, picks_up))
                )
        serving.sort(key=lambda s: s[0])
        return _ServingList(
            nodes=tuple(s[2] for s in serving),
            node_ids=tuple(s[1] for s in serving),
            shipping=tuple(s[2].can_ship for s in serving),
        )


_kept_network: _NodeNetwork | None = None


def _node_network(token: int | None) -> _NodeNetwork:
    """The nodes for a request whose stock statement read version `token`: the process's kept
    ones if read with that same token, else read again (with the token, in one statement).
    Without a token (no NodeNetworkVersion row, e.g. a flushed test database) nothing is kept.
    """
    global _kept_network
    kept = _kept_network
    if token is not None and kept is not None and kept.token == token:
        return kept
    with connection.cursor() as cursor:
        cursor.execute(_availability_sql("nodes", 0))
        rows = cursor.fetchall()
    # The token read with the nodes (not the stock statement's: it may have changed since).
    network = _NodeNetwork(rows[0][-1] if rows else None, rows)
    if network.token is not None:
        _kept_network = network
    return network


def _in(count: int) -> str:
    return f"IN ({', '.join(['%s'] * count)})"


@lru_cache(maxsize=2 * MAX_AVAILABILITY_SKUS)
def _availability_sql(kind: str, count: int) -> str:
    """The statements of get_availability for `count` SKUs, written once per process:
    building them with the ORM on every request cost more than running them
    (bench/availability_profile.py). Portable SQL (PostgreSQL and the embedded SQLite); the
    names come from the models, so a renamed table or column still matches."""
    product, node, level = Product._meta, Node._meta, StockLevel._meta
    version = NodeNetworkVersion._meta
    quote = connection.ops.quote_name

    def col(meta: Any, name: str, alias: str = "") -> str:
        return f"{alias}{quote(meta.get_field(name).column)}"

    token = (
        f"(SELECT {col(version, 'token', 'v.')} FROM {quote(version.db_table)} v "  # noqa: S608  # names from the models
        f"WHERE {col(version, 'id', 'v.')} = 1)"
    )
    p, s = "p.", "s."
    available = col(level, "available", s)
    if kind == "stock":
        # PostgreSQL: one row per product found by SKU, with its stock rows' node ids and
        # max(available, 0) as two arrays aggregated in one pass (so in the same order; NULL
        # for a product without stock rows), and the node network's token in the same snapshot.
        return (
            f"SELECT {col(product, 'id', p)}, "  # noqa: S608  # names from the models, values are parameters
            f"{col(product, 'sku', p)}, {col(product, 'is_active', p)}, a.nodes, a.available, "
            f"{token} FROM {quote(product.db_table)} p CROSS JOIN LATERAL ("
            f"SELECT array_agg({col(level, 'node', s)}) AS nodes, "
            f"array_agg(CASE WHEN {available} > 0 THEN {available} ELSE 0 END) AS available "
            f"FROM {quote(level.db_table)} s "
            f"WHERE {col(level, 'product', s)} = {col(product, 'id', p)}) a "
            f"WHERE {col(product, 'sku', p)} {_in(count)}"
        )
    if kind == "stock rows":
        # Elsewhere (the embedded SQLite): the products by SKU, each with its stock rows (one
        # row with NULLs when it has none), max(available, 0), and the token.
        return (
            f"SELECT {col(product, 'id', p)}, "  # noqa: S608  # names from the models, values are parameters
            f"{col(product, 'sku', p)}, {col(product, 'is_active', p)}, "
            f"{col(level, 'node', s)}, "
            f"CASE WHEN {available} > 0 THEN {available} ELSE 0 END, {token} "
            f"FROM {quote(product.db_table)} p LEFT JOIN {quote(level.db_table)} s "
            f"ON {col(level, 'product', s)} = {col(product, 'id', p)} "
            f"WHERE {col(product, 'sku', p)} {_in(count)}"
        )
    # Active nodes that ship or offer pickup (coordinates as floats), with the token.
    n = "n."
    return (
        f"SELECT {col(node, 'id', n)}, "  # noqa: S608  # names from the models, no values
        f"{col(node, 'code', n)}, {col(node, 'kind', n)}, "
        f"CAST({col(node, 'latitude', n)} AS DOUBLE PRECISION), "
        f"CAST({col(node, 'longitude', n)} AS DOUBLE PRECISION), "
        f"{col(node, 'can_ship', n)}, {col(node, 'can_pickup', n)}, {token} "
        f"FROM {quote(node.db_table)} n "
        f"WHERE {col(node, 'is_active', n)} "
        f"AND ({col(node, 'can_ship', n)} OR {col(node, 'can_pickup', n)})"
    )


@lru_cache(maxsize=65_536)
def _distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Rounded great-circle miles; a pure function of the coordinates, so remembering it per
    process is safe (nothing about stock, nodes or reservations is cached)."""
    return round(haversine_miles(lat1, lon1, lat2, lon2), 1)


def _locate(postal_code: str, country: str) -> Location | None:
    if not postal_code:
        return None
    found = resolve_postal_code(postal_code, country)
    if found is None:
        if country == "US":
            raise UnknownPostalCode(postal_code=postal_code, country=country)
        return None  # no offline coordinates outside the US: network totals only
    latitude, longitude, state = found
    return Location(latitude=float(latitude), longitude=float(longitude), state=state)


def latest_node_reconciliations() -> QuerySet[NodeReconciliation]:
    """Each node's latest reconciliation figures (nodes never reconciled are left out)."""
    latest = (
        NodeReconciliation.objects.filter(node=OuterRef("node"))
        .order_by("-reconciled_at", "-id")
        .values("pk")[:1]
    )
    return (
        NodeReconciliation.objects.annotate(latest=Subquery(latest))
        .filter(pk=F("latest"))
        .select_related("node", "reconciliation")
        .order_by("node__code")
    )


@dataclass(frozen=True)
class InventoryAccuracy:
    """Inventory accuracy: the share of node×SKU pairs within tolerance, over each node's latest
    reconciliation."""

    pairs: int
    within_tolerance: int
    nodes: int
    over_threshold: int
    last_reconciled_at: datetime

    @property
    def rate(self) -> float:
        return 100.0 * self.within_tolerance / self.pairs if self.pairs else 100.0


def inventory_accuracy() -> InventoryAccuracy | None:
    """None when no node was ever reconciled."""
    rows = list(
        latest_node_reconciliations().values_list(
            "pairs", "within_tolerance", "over_threshold", "reconciled_at"
        )
    )
    if not rows:
        return None
    return InventoryAccuracy(
        pairs=sum(r[0] for r in rows),
        within_tolerance=sum(r[1] for r in rows),
        nodes=len(rows),
        over_threshold=sum(r[2] for r in rows),
        last_reconciled_at=max(r[3] for r in rows),
    )


def node_variance_series(since: datetime) -> QuerySet[NodeReconciliation]:
    """Per node and reconciliation since `since`, oldest first: the variance-by-node chart."""
    return (
        NodeReconciliation.objects.filter(reconciled_at__gte=since)
        .select_related("node")
        .order_by("reconciled_at", "node__code")
    )


def inventory_accuracy_between(start: datetime, end: datetime) -> float | None:
    """Share of node×SKU pairs within tolerance over every reconciliation in [start, end)."""
    totals = NodeReconciliation.objects.filter(
        reconciled_at__gte=start, reconciled_at__lt=end
    ).aggregate(pairs=Sum("pairs"), within=Sum("within_tolerance"))
    if not totals["pairs"]:
        return None
    return 100.0 * totals["within"] / totals["pairs"]
