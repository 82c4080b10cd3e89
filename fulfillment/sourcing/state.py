"""The working state of one `plan_order` call: products, candidate nodes and the flat context.

Plain slotted classes on purpose: a `NodeState` is built for every node of every order.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from fulfillment.rules import RuleConfig
from fulfillment.sourcing.inputs import CandidateNode, LineDemand, OrderDemand
from fulfillment.sourcing.outputs import Exclusion

KIND_LABEL = {
    "distribution_center": "Distribution center",
    "warehouse": "Warehouse",
    "store": "Store",
    "3pl": "3PL",
    "dropship": "Drop-ship vendor",
}
PICKUP_METHODS = ("pickup", "curbside")


@dataclass(frozen=True)
class ProductDemand:
    index: int
    product_id: int
    sku: str
    needed: int
    lines: tuple[LineDemand, ...]


_UNSCORED = (0.0, 0, "", 0)
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_NO_STOCK: list[int] = []  # placeholder only: evaluate always assigns a fresh list


class NodeState:
    """One candidate while planning. A plain slotted class: this runs for every node per order."""

    __slots__ = (
        "src",
        "distance",
        "exclusions",
        "usable",
        "eligible",
        "components",
        "score",
        "mask",
        "rank",
        "stocked",
    )

    def __init__(self, src: CandidateNode, distance: float | None) -> None:
        self.src = src
        self.distance = distance
        self.exclusions: tuple[Exclusion, ...] = ()  # the shared empty tuple until one applies
        self.usable: list[int] = _NO_STOCK  # by product index, set by evaluate
        self.eligible = False
        self.components: Mapping[str, float] = _NOTHING
        self.score: float | None = None
        self.mask = 0  # products this node can fill completely, one bit per product index
        # Lower is better: score, then priority, then code (determinism).
        self.rank: tuple[float, int, str, int] = _UNSCORED
        self.stocked: Mapping[str, int] = _NOTHING  # sku -> usable, only when more than 0

    def excluded(self, filter_code: str, detail: str, sku: str | None = None) -> None:
        label = f"{KIND_LABEL.get(self.src.kind, 'Node')} {self.src.code}"
        self.exclusions += (Exclusion(filter_code, f"{label} excluded: {detail}", sku),)


class Context:
    """The rule set and order, flattened once per call so the per-node loop only reads locals."""

    def __init__(
        self, order: OrderDemand, rules: RuleConfig, products: list[ProductDemand], now: datetime
    ) -> None:
        filters = rules.filters
        self.order = order
        self.products = products
        self.method = order.delivery_method
        self.pickup = order.delivery_method in PICKUP_METHODS
        self.now = now
        self.require_capability = filters.require_capability
        self.respect_capacity = filters.respect_daily_capacity
        self.excluded_codes = frozenset(filters.excluded_nodes)
        self.store_min_stock = filters.store_min_stock
        self.max_age_hours = filters.max_inventory_age_hours
        self.max_age = None if self.max_age_hours is None else timedelta(hours=self.max_age_hours)
        self.max_distance = filters.max_distance_miles
        kinds = filters.service_level_node_kinds.get(order.service_level)
        self.service_kinds = None if kinds is None else tuple(kinds)
        self.state = order.destination.state.strip().upper()
        regions = filters.allowed_regions.get(self.state)
        self.regions = None if regions is None else tuple(regions)
        self.region_keys = frozenset(r.casefold() for r in regions or ())
        weights = rules.weights
        self.w_distance, self.w_priority = weights.distance, weights.priority
        self.w_cost, self.w_depth = weights.cost, weights.stock_depth
        self.per_shipment = rules.costs.per_shipment
        self.default_shipment_cost = max(self.per_shipment.values())
        self.per_mile = rules.costs.per_mile
        self.plain_stock = self.max_age is None and not self.store_min_stock
