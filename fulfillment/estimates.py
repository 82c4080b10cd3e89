"""Estimated shipping cost and promise date of a set of shipments, from what routing knows.

The shadow diff (migration/selectors.py) puts oms's plan next to the legacy system's decision;
both are estimated here by the same function with the same rule set, so the figures compare
like with like:

- **cost** of a shipment: the rule set's own cost figures, exactly what routing scores
  (fulfillment/sourcing/scoring.py, docs/routing.md): `costs.per_shipment[node kind] +
  costs.per_mile × miles to the destination`; the order's cost is the sum over its shipments,
  in the order's currency.
- **promise date** of a shipment: the ship-by clock a fulfillment order gets at release
  (`SHIP_BY_HOURS` per service level, fulfillment/services/fulfillment_orders.py) from the
  order's placement, plus the carrier's transit days for the service level and the distance
  (`TRANSIT_DAYS`, zones like a parcel carrier's ground map); pickup and curbside have no
  transit. The order's promise is its last shipment's.

A node without coordinates (or a destination that cannot be located) has no miles: its cost
counts the per-shipment figure only, like routing, and its transit is the service level's
slowest zone.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from fulfillment.rules import RuleConfig
from fulfillment.services.fulfillment_orders import SHIP_BY_HOURS

CENT = Decimal("0.01")

#: service level -> ((up to miles, days), ...) ascending; past the last bound, the last days.
TRANSIT_DAYS: dict[str, tuple[tuple[float, int], ...]] = {
    "standard": ((150, 1), (300, 2), (600, 3), (1000, 4), (float("inf"), 5)),
    "express": ((600, 1), (float("inf"), 2)),
    "same_day": ((float("inf"), 0),),
}
NO_TRANSIT_METHODS = ("pickup", "curbside")


def transit_days(service_level: str, miles: float | None, delivery_method: str = "ship") -> int:
    if delivery_method in NO_TRANSIT_METHODS:
        return 0
    zones = TRANSIT_DAYS.get(service_level, TRANSIT_DAYS["standard"])
    if miles is None:
        return zones[-1][1]
    return next(days for bound, days in zones if miles <= bound)


@dataclass(frozen=True)
class ShipmentEstimate:
    node: str
    cost: Decimal
    promise: date


@dataclass(frozen=True)
class Estimate:
    cost: Decimal  # the sum over the shipments, in `currency`
    currency: str
    promise: date  # the last shipment's
    shipments: tuple[ShipmentEstimate, ...]


def estimate_shipments(
    nodes: Iterable[str],
    *,
    kinds: Mapping[str, str],
    miles: Mapping[str, float | None],
    rules: RuleConfig,
    placed_at: datetime,
    service_level: str,
    delivery_method: str,
    currency: str,
    tz: str = "UTC",
) -> Estimate | None:
    """One shipment per node; None when there is no node (nothing placed)."""
    ship_by = placed_at + timedelta(hours=SHIP_BY_HOURS.get(service_level, 48))
    ship_day = ship_by.astimezone(ZoneInfo(tz)).date()
    fallback = max(rules.costs.per_shipment.values())
    shipments = []
    for code in sorted(set(nodes)):
        distance = miles.get(code)
        raw = rules.costs.per_shipment.get(kinds.get(code, ""), fallback)
        raw += rules.costs.per_mile * (distance or 0.0)
        shipments.append(
            ShipmentEstimate(
                node=code,
                cost=Decimal(str(raw)).quantize(CENT, rounding=ROUND_HALF_UP),
                promise=ship_day
                + timedelta(days=transit_days(service_level, distance, delivery_method)),
            )
        )
    if not shipments:
        return None
    return Estimate(
        cost=sum((s.cost for s in shipments), Decimal("0.00")),
        currency=currency,
        promise=max(s.promise for s in shipments),
        shipments=tuple(shipments),
    )
