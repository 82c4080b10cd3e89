"""What the caller loads for `plan_order`: the order's demand and the candidate nodes' stock."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StockInfo:
    available: int  # on_hand - reserved - safety_stock, as StockLevel computes it
    on_hand: int
    last_reported_at: datetime | None


@dataclass(frozen=True)
class CandidateNode:
    node_id: int
    code: str
    name: str
    kind: str
    latitude: float
    longitude: float
    priority: int
    fulfillment_region: str
    is_active: bool
    can_ship: bool
    can_pickup: bool
    can_curbside: bool
    can_ship_from_store: bool
    daily_capacity: int
    capacity_used_today: int
    stock: Mapping[int, StockInfo]  # product_id -> stock


@dataclass(frozen=True)
class LineDemand:
    line_id: int  # the order line's database id: what assignments and reservations refer to
    product_id: int
    sku: str
    quantity: int
    # The line's number as the channel sent it (1, 2, 3...): what explanations say to people.
    line_number: int | None = None

    @property
    def number(self) -> int:
        return self.line_number if self.line_number is not None else self.line_id


@dataclass(frozen=True)
class Destination:
    latitude: float | None
    longitude: float | None
    state: str
    country: str


@dataclass(frozen=True)
class OrderDemand:
    lines: tuple[LineDemand, ...]
    delivery_method: str
    service_level: str
    destination: Destination
    pickup_node_id: int | None
