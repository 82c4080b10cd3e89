"""Sourcing: decide which node ships which quantity of one order, and say why.

Pure Python on purpose (no ORM): the caller loads nodes and stock into the dataclasses of
`inputs` and stores `Plan.to_dict()`. Same inputs, same plan: nodes are sorted before anything
else and no set or dict is iterated unsorted. The algorithm and every rule are described in
docs/routing.md.

Import from here, not from the modules:

- `inputs`: the frozen inputs (`OrderDemand`, `LineDemand`, `CandidateNode`, `StockInfo`, ...)
- `outputs`: the frozen outputs (`Plan`, `Assignment`, `Exclusion`, ...) and `Plan.to_dict()`
- `state`: the working state of one call (`ProductDemand`, `NodeState`, `Context`)
- `filters`: per-node and per-product filters with their exclusion reasons (`evaluate`)
- `scoring`: a candidate node's score
- `allocation`: quantities given to nodes, drawn down from their usable stock
- `cover`: the set cover and the split when no single node fills the order
- `explain`: the sentences of the explanation
- `planner`: `plan_order`, which ties them together
"""

from fulfillment.sourcing.cover import MAX_EXACT_PRODUCTS, SEARCH_BUDGET
from fulfillment.sourcing.filters import KIND_PLURAL, SERVICE_LABEL
from fulfillment.sourcing.inputs import (
    CandidateNode,
    Destination,
    LineDemand,
    OrderDemand,
    StockInfo,
)
from fulfillment.sourcing.outputs import (
    Assignment,
    Backorder,
    CandidateReport,
    Exclusion,
    Outcome,
    Plan,
)
from fulfillment.sourcing.planner import plan_order
from fulfillment.sourcing.scoring import DEPTH_CAP
from fulfillment.sourcing.state import KIND_LABEL, PICKUP_METHODS

__all__ = [
    "DEPTH_CAP",
    "KIND_LABEL",
    "KIND_PLURAL",
    "MAX_EXACT_PRODUCTS",
    "PICKUP_METHODS",
    "SEARCH_BUDGET",
    "SERVICE_LABEL",
    "Assignment",
    "Backorder",
    "CandidateNode",
    "CandidateReport",
    "Destination",
    "Exclusion",
    "LineDemand",
    "OrderDemand",
    "Outcome",
    "Plan",
    "StockInfo",
    "plan_order",
]
