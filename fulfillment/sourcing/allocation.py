"""Quantities given to nodes while planning, drawn down from each node's usable stock."""

from collections.abc import Sequence

from fulfillment.rules import RuleConfig
from fulfillment.sourcing.inputs import LineDemand
from fulfillment.sourcing.state import NodeState, ProductDemand


class Allocation:
    """Quantities given to nodes so far; each node's usable stock is drawn down as lines take it."""

    def __init__(self, products: list[ProductDemand], rules: RuleConfig) -> None:
        self.products = products
        self.rules = rules
        self.all_products = (1 << len(products)) - 1
        self.chosen: list[NodeState] = []
        self.left: dict[int, list[int]] = {}
        self.given: dict[tuple[int, int], int] = {}  # (line_id, node_id) -> quantity
        self.max_shipments = rules.max_shipments

    def use(self, node: NodeState) -> None:
        if node not in self.chosen:
            self.chosen.append(node)
            self.left[node.src.node_id] = list(node.usable)

    def give(
        self, line: LineDemand, product: ProductDemand, node: NodeState, quantity: int
    ) -> None:
        self.use(node)
        self.left[node.src.node_id][product.index] -= quantity
        key = (line.line_id, node.src.node_id)
        self.given[key] = self.given.get(key, 0) + quantity

    def fill_all(self) -> None:
        """Every line from the nodes already chosen (a single node, or the pickup node)."""
        for product in self.products:
            for line in product.lines:
                self.fill_line(line, product, ())

    def fill_line(
        self, line: LineDemand, product: ProductDemand, pool: Sequence[NodeState]
    ) -> None:
        """Chosen nodes first (no extra shipment), then new nodes from `pool` while allowed."""
        need, i = line.quantity, product.index
        chosen = [n for n in self.chosen if self.left[n.src.node_id][i] > 0]
        fresh = [n for n in pool if n not in self.chosen and n.usable[i] > 0]
        room = len(self.chosen) < self.max_shipments
        whole = [n for n in chosen if self._left(n, i) >= need]
        whole += [n for n in fresh if room and n.usable[i] >= need]
        if whole:
            self.give(line, product, whole[0], need)
            return
        sources: list[tuple[NodeState, int]] = []
        if self.rules.split_lines:
            for node in chosen:
                take = min(self._left(node, i), need - sum(q for _, q in sources))
                if take > 0:
                    sources.append((node, take))
            # Largest first is what reaches a quantity with the fewest nodes; the last node is the
            # best-scored one that covers the rest.
            while fresh and len(self.chosen) + _new(sources, self.chosen) < self.max_shipments:
                rest = need - sum(q for _, q in sources)
                if rest <= 0:
                    break
                enough = [n for n in fresh if n.usable[i] >= rest]
                node = enough[0] if enough else min(fresh, key=lambda n: (-n.usable[i], n.rank))
                fresh.remove(node)
                sources.append((node, min(node.usable[i], rest)))
        else:
            pool_ = chosen + (fresh if room else [])
            if pool_:
                node = min(
                    pool_,
                    key=lambda n: (-min(self._left(n, i), need), n not in self.chosen, n.rank),
                )
                sources.append((node, min(self._left(node, i), need)))
        for node, quantity in sources:
            self.give(line, product, node, quantity)

    def drop_redundant(self) -> None:
        """Drop a node whose share the other chosen nodes can ship from what they have left.

        The set cover only counts nodes that can fill a product completely; when lines had to be
        split afterwards, a node chosen for the cover may have become unnecessary. Worst-ranked
        nodes are tried first; repeated until no node can be dropped.
        """
        dropped = True
        while dropped:
            dropped = False
            used = [n for n in self.chosen if self._share(n)]
            for node in sorted(used, key=lambda n: n.rank, reverse=True):
                moves = self._rehome(node, [n for n in used if n is not node])
                if moves is not None:
                    for line, _product, _quantity in self._share(node):
                        del self.given[(line.line_id, node.src.node_id)]
                    for line, product, target, quantity in moves:
                        self.give(line, product, target, quantity)
                    self.chosen.remove(node)
                    dropped = True
                    break

    def _share(self, node: NodeState) -> list[tuple[LineDemand, ProductDemand, int]]:
        node_id = node.src.node_id
        return [
            (line, product, self.given[(line.line_id, node_id)])
            for product in self.products
            for line in product.lines
            if self.given.get((line.line_id, node_id), 0) > 0
        ]

    def _rehome(
        self, node: NodeState, others: list[NodeState]
    ) -> list[tuple[LineDemand, ProductDemand, NodeState, int]] | None:
        left = {n.src.node_id: list(self.left[n.src.node_id]) for n in others}
        moves: list[tuple[LineDemand, ProductDemand, NodeState, int]] = []
        for line, product, quantity in self._share(node):
            i = product.index
            whole = next((n for n in others if left[n.src.node_id][i] >= quantity), None)
            if whole is not None:
                takers = [(whole, quantity)]
            elif self.rules.split_lines:
                takers, rest = [], quantity
                for other in others:
                    take = min(left[other.src.node_id][i], rest)
                    if take > 0:
                        takers.append((other, take))
                        rest -= take
                if rest:
                    return None
            else:
                return None
            for other, take in takers:
                left[other.src.node_id][i] -= take
                moves.append((line, product, other, take))
        return moves

    def _left(self, node: NodeState, i: int) -> int:
        left = self.left.get(node.src.node_id)
        return node.usable[i] if left is None else left[i]


def _new(sources: list[tuple[NodeState, int]], chosen: list[NodeState]) -> int:
    return sum(1 for n, _ in sources if n not in chosen)
