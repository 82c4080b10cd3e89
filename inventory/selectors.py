"""Read queries of the inventory app, reused by the API, the admin, services and reports."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.exceptions import InventoryErrorCode, UnknownPostalCode
from inventory.models import (
    InventoryMovement,
    MovementReason,
    Node,
    NodeQuerySet,
    Oversell,
    Product,
    Reservation,
    ReservationStatus,
    StockLevel,
    normalize_sku,
)
from oms.core.errors import FieldError, InvalidInput
from oms.core.geo import haversine_miles, resolve_postal_code

MAX_AVAILABILITY_SKUS = 50


def products_by_sku(skus: list[str]) -> dict[str, Product]:
    """Active and inactive products keyed by normalised SKU (callers decide what inactive means)."""
    wanted = {normalize_sku(s) for s in skus}
    return {p.sku: p for p in Product.objects.filter(sku__in=wanted)}


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


@dataclass(frozen=True)
class NodeAvailability:
    node: str
    kind: str
    available: int
    distance_miles: float | None
    can_ship: bool
    can_pickup: bool


@dataclass(frozen=True)
class SkuAvailability:
    sku: str
    is_active: bool
    network_available: int
    nodes: tuple[NodeAvailability, ...]


@dataclass(frozen=True)
class Availability:
    postal_code: str
    country: str
    location: Location | None
    pickup_radius_miles: float
    items: tuple[SkuAvailability, ...]


def get_availability(
    *, skus: list[str], postal_code: str, country: str, pickup_radius_miles: float
) -> Availability:
    """What each SKU has to offer a customer at (postal_code, country), in three queries.

    `network_available` sums max(available, 0) over active nodes that ship. `nodes` lists the
    active nodes that could serve the address: every shipping node, and pickup nodes within
    `pickup_radius_miles` (only when the address has coordinates: US ZIP codes, offline).
    A negative `available` (a node counted fewer units than it has reserved) shows as 0.
    Raises InvalidInput (unknown SKU, more than 50 SKUs) and UnknownPostalCode (US only).
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
    products = products_by_sku(wanted)
    unknown = [
        FieldError(InventoryErrorCode.UNKNOWN_SKU, f"No product with SKU {sku!r}.", f"sku[{i}]")
        for i, sku in enumerate(wanted)
        if sku not in products
    ]
    if unknown:
        raise InvalidInput(unknown)
    nodes = list(
        Node.objects.active()
        .filter(Q(can_ship=True) | Q(can_pickup=True))
        # Only what is used below: not the connector settings and the rest of every node.
        .only("pk", "code", "kind", "latitude", "longitude", "can_ship", "can_pickup")
    )
    distances = {
        node.pk: (
            round(
                haversine_miles(
                    location.latitude,
                    location.longitude,
                    float(node.latitude),
                    float(node.longitude),
                ),
                1,
            )
            if location is not None
            else None
        )
        for node in nodes
    }
    serving = [
        (node, node.can_ship, _within(distances[node.pk], pickup_radius_miles) and node.can_pickup)
        for node in nodes
    ]
    serving = [s for s in serving if s[1] or s[2]]
    serving.sort(key=lambda s: (distances[s[0].pk] is None, distances[s[0].pk] or 0, s[0].code))
    available = {
        (product_id, node_id): quantity
        for product_id, node_id, quantity in StockLevel.objects.filter(
            product_id__in=[p.pk for p in products.values()],
            node_id__in=[node.pk for node, _, _ in serving],
        ).values_list("product_id", "node_id", "available")
    }
    items = []
    for sku in wanted:
        product = products[sku]
        rows = tuple(
            NodeAvailability(
                node=node.code,
                kind=node.kind,
                available=max(available.get((product.pk, node.pk), 0), 0),
                distance_miles=distances[node.pk],
                can_ship=ships,
                can_pickup=picks_up,
            )
            for node, ships, picks_up in serving
        )
        items.append(
            SkuAvailability(
                sku=sku,
                is_active=product.is_active,
                network_available=sum(r.available for r in rows if r.can_ship),
                nodes=rows,
            )
        )
    return Availability(
        postal_code=postal_code.strip(),
        country=country,
        location=location,
        pickup_radius_miles=pickup_radius_miles,
        items=tuple(items),
    )


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


def _within(distance: float | None, radius: float) -> bool:
    return distance is not None and distance <= radius
