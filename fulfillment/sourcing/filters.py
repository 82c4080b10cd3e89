"""Per-node and per-product filters, each with the exclusion reason it records.

`evaluate` is the one pass over a candidate node: node filters, usable stock of every ordered
product (per-product filters), coverage mask, then the score.
"""

from fulfillment.sourcing.explain import either
from fulfillment.sourcing.inputs import CandidateNode
from fulfillment.sourcing.scoring import DEPTH_CAP, score_node
from fulfillment.sourcing.state import Context, NodeState, ProductDemand
from oms.core.geo import haversine_miles

KIND_PLURAL = {
    "distribution_center": "distribution centers",
    "warehouse": "warehouses",
    "store": "stores",
    "3pl": "3PLs",
    "dropship": "drop-ship vendors",
}
SERVICE_LABEL = {"standard": "standard", "express": "express", "same_day": "same-day"}


def evaluate(src: CandidateNode, ctx: Context, origin: tuple[float, float] | None) -> NodeState:
    distance = (
        haversine_miles(origin[0], origin[1], src.latitude, src.longitude) if origin else None
    )
    node = NodeState(src, distance)
    if ctx.pickup and src.node_id != ctx.order.pickup_node_id:
        node.excluded("pickup_node", "not the customer's pickup store")
        node.usable = [0] * len(ctx.products)
        return node  # not a candidate at all: no further filters, no score
    _node_filters(node, ctx)
    node_level = bool(node.exclusions)
    # One pass over the products: usable quantity, coverage mask, stock depth and the report's
    # sku -> usable mapping (left as the shared empty mapping when the node has nothing).
    usable: list[int] = []
    stocked: dict[str, int] | None = None
    mask, depth_sum = 0, 0.0
    stock, plain = src.stock, ctx.plain_stock
    for product in ctx.products:
        if plain:  # no freshness or store-minimum rule: usable is just what is available
            info = stock.get(product.product_id)
            quantity = info.available if info is not None and info.available > 0 else 0
        else:
            quantity = _usable(node, product, ctx)
        usable.append(quantity)
        if quantity:
            if stocked is None:
                stocked = {}
            stocked[product.sku] = quantity
            ratio = quantity / product.needed
            depth_sum += ratio if ratio < DEPTH_CAP else DEPTH_CAP
            if quantity >= product.needed:
                mask |= 1 << product.index
    node.usable = usable
    node.mask = mask
    if stocked is not None:
        node.stocked = stocked
        if not node_level:
            node.eligible = True
    elif not node_level:
        node.excluded("no_stock", "no usable stock of any ordered item")
    score_node(node, ctx, depth_sum / len(stocked) if stocked else 0.0)
    return node


def _node_filters(node: NodeState, ctx: Context) -> None:
    src = node.src
    if not src.is_active:
        node.excluded("inactive", "inactive")
    if src.code in ctx.excluded_codes:
        node.excluded("excluded_node", "on the rule set's excluded nodes list")
    if ctx.require_capability:
        missing = _missing_capability(src, ctx.method)
        if missing:
            node.excluded("capability", missing)
    if ctx.respect_capacity and src.capacity_used_today >= src.daily_capacity:
        node.excluded("capacity", f"daily capacity {src.daily_capacity} reached")
    if ctx.pickup:
        return  # service level, region and distance rules are about shipping to an address
    kinds = ctx.service_kinds
    if kinds is not None and src.kind not in kinds:
        allowed = either([KIND_PLURAL[k] for k in kinds])
        level = SERVICE_LABEL[ctx.order.service_level]
        node.excluded("service_level", f"{level} orders ship only from {allowed}")
    if ctx.regions is not None and src.fulfillment_region.casefold() not in ctx.region_keys:
        region = f"region '{src.fulfillment_region}'" if src.fulfillment_region else "no region"
        allowed = ", ".join(ctx.regions)
        node.excluded("region", f"{region} may not ship to {ctx.state} (allowed: {allowed})")
    limit = ctx.max_distance
    if limit is not None and node.distance is not None and node.distance > limit:
        node.excluded(
            "distance", f"{node.distance:.0f} miles away, beyond the {limit:g}-mile limit"
        )


def _missing_capability(src: CandidateNode, method: str) -> str | None:
    if method == "pickup":
        return None if src.can_pickup else "does not offer in-store pickup"
    if method == "curbside":
        return None if src.can_curbside else "does not offer curbside pickup"
    if src.kind == "store":
        return None if src.can_ship_from_store else "cannot ship from store"
    return None if src.can_ship else "cannot ship"


def _usable(node: NodeState, product: ProductDemand, ctx: Context) -> int:
    """What the node may route of one product: 0 when filtered at product level."""
    stock = node.src.stock.get(product.product_id)
    if stock is None:
        return 0
    if ctx.max_age is not None:
        reported = stock.last_reported_at
        if reported is None:
            node.excluded(
                "stale_inventory",
                f"stock of {product.sku} never reported (limit {ctx.max_age_hours} hours)",
                product.sku,
            )
            return 0
        if ctx.now - reported > ctx.max_age:
            hours = int((ctx.now - reported).total_seconds() // 3600)
            node.excluded(
                "stale_inventory",
                f"stock of {product.sku} last reported {hours} hours ago "
                f"(limit {ctx.max_age_hours} hours)",
                product.sku,
            )
            return 0
    available = stock.available
    keep = ctx.store_min_stock if node.src.kind == "store" else 0
    if keep and 0 < available <= keep:
        where = "below" if available < keep else "at"
        node.excluded(
            "store_min_stock",
            f"{where} minimum stock {keep} for {product.sku} (has {available})",
            product.sku,
        )
    return available - keep if available > keep else 0
