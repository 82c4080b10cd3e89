"""The score of a candidate node: weighted distance, priority, cost and stock depth."""

from fulfillment.sourcing.state import Context, NodeState

# A node holding 5x what the order needs is as good as one holding 50x: past that, depth says
# nothing about the risk of a short pick, and an uncapped bonus would let stock outweigh distance.
DEPTH_CAP = 5.0


def score_node(node: NodeState, ctx: Context, depth: float) -> None:
    """Lower is better. `depth`: mean over the products the node has of usable/needed, capped."""
    src = node.src
    miles = node.distance or 0.0
    shipment_cost = ctx.per_shipment.get(src.kind, ctx.default_shipment_cost)
    distance = ctx.w_distance * miles
    priority = ctx.w_priority * src.priority
    cost = ctx.w_cost * (shipment_cost + ctx.per_mile * miles)
    stock_depth = -ctx.w_depth * depth
    node.components = {
        "distance": distance,
        "priority": priority,
        "cost": cost,
        "stock_depth": stock_depth,
    }
    node.score = score = distance + priority + cost + stock_depth
    node.rank = (score, src.priority, src.code, src.node_id)
