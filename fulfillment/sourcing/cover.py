"""The split: fewest nodes covering the order (set cover), then lines filled from them.

Exact breadth-first cover up to MAX_EXACT_PRODUCTS products and SEARCH_BUDGET steps, greedy past
that; when max_shipments nodes cannot cover everything, the nodes covering the most lines.
"""

from fulfillment.sourcing.allocation import Allocation
from fulfillment.sourcing.state import NodeState

# The exact set cover walks up to 2^products states; past 20 products (or this much work) a
# greedy cover answers instead, so a huge B2B order cannot stall a worker.
MAX_EXACT_PRODUCTS = 20
SEARCH_BUDGET = 100_000


def plan_split(eligible: list[NodeState], alloc: Allocation, notes: list[str]) -> None:
    if not eligible:
        notes.append("No node can fill any line.")
        return
    # One node per coverage mask (the best-ranked), and none whose products a better-or-equal
    # node covers too: swapping it for that node never adds a shipment or score.
    groups: list[tuple[int, NodeState]] = []
    for node in eligible:
        mask = node.mask
        if mask and not any(mask | kept == kept for kept, _ in groups):
            groups.append((mask, node))
    target = 0
    for mask, _ in groups:
        target |= mask
    cover = _cover(alloc, groups, target)
    covered = 0
    for node in cover:
        covered |= node.mask
    if covered != target:
        notes.append(
            f"Filling every line would take more than {alloc.max_shipments} shipments, the most "
            "the rule set allows."
        )
    for node in sorted(cover, key=lambda n: n.rank):
        alloc.use(node)
    for product in alloc.products:
        owner = next((n for n in alloc.chosen if n.mask >> product.index & 1), None)
        for line in product.lines:
            if owner is not None:
                alloc.give(line, product, owner, line.quantity)
            else:
                alloc.fill_line(line, product, eligible)
    alloc.drop_redundant()


def _cover(alloc: Allocation, groups: list[tuple[int, NodeState]], target: int) -> list[NodeState]:
    """Fewest nodes covering `target` within max_shipments, then the lowest total score.

    When even max_shipments nodes cannot cover it, the nodes covering the most lines (then units).
    """
    limit = alloc.max_shipments
    if target == 0:
        return []
    if len(alloc.products) <= MAX_EXACT_PRODUCTS:
        try:
            exact = _exact_cover(groups, target, limit)
            return exact if exact is not None else _max_coverage(alloc, groups, limit)
        except _TooMuchWork:
            pass
    return _greedy_cover(alloc, groups, target, limit)


class _TooMuchWork(Exception):
    pass


def _exact_cover(
    groups: list[tuple[int, NodeState]], target: int, limit: int
) -> list[NodeState] | None:
    """Breadth-first over covered-product masks, one layer per shipment.

    From each state only nodes covering its lowest uncovered product are tried: any cover has
    one, so nothing is missed, and the branching drops from all groups to those few. A mask first
    reached at layer k is never revisited later: fewer shipments always win.
    """
    by_low: dict[int, list[tuple[int, NodeState]]] = {}
    for mask, node in groups:
        rest = mask
        while rest:
            low = rest & -rest
            by_low.setdefault(low, []).append((mask, node))
            rest ^= low
    best: dict[int, tuple[float, tuple[NodeState, ...]]] = {0: (0.0, ())}
    frontier = [0]
    work = 0
    for _ in range(limit):
        layer: dict[int, tuple[float, tuple[NodeState, ...]]] = {}
        for state in frontier:
            score, picked = best[state]
            rest = target & ~state
            for mask, node in by_low[rest & -rest]:
                work += 1
                new = state | mask
                if new in best:
                    continue
                total = score + (node.score or 0.0)
                current = layer.get(new)
                if current is None or total < current[0]:
                    layer[new] = (total, (*picked, node))
            if work > SEARCH_BUDGET:
                raise _TooMuchWork
        if target in layer:
            return list(layer[target][1])
        best.update(layer)
        frontier = list(layer)
    return None


def _max_coverage(
    alloc: Allocation, groups: list[tuple[int, NodeState]], limit: int
) -> list[NodeState]:
    best: dict[int, tuple[float, tuple[NodeState, ...]]] = {0: (0.0, ())}
    frontier = [0]
    work = 0
    for _ in range(limit):
        layer: dict[int, tuple[float, tuple[NodeState, ...]]] = {}
        for state in frontier:
            score, picked = best[state]
            for mask, node in groups:
                work += 1
                new = state | mask
                if new in best:
                    continue
                total = score + (node.score or 0.0)
                current = layer.get(new)
                if current is None or total < current[0]:
                    layer[new] = (total, (*picked, node))
            if work > SEARCH_BUDGET:
                raise _TooMuchWork
        best.update(layer)
        frontier = list(layer)
    value = _values_table(alloc) if len(alloc.products) <= 12 else None
    state = min(
        best,
        key=lambda m: (
            -(value[m] if value is not None else _packed(alloc, m)),
            len(best[m][1]),
            best[m][0],
        ),
    )
    return list(best[state][1])


def _values_table(alloc: Allocation) -> list[int]:
    """_packed() of every mask, built in one pass (each mask = itself minus its lowest bit)."""
    per_product = [_packed(alloc, 1 << p.index) for p in alloc.products]
    table = [0] * (1 << len(alloc.products))
    for mask in range(1, len(table)):
        low = mask & -mask
        table[mask] = table[mask ^ low] + per_product[low.bit_length() - 1]
    return table


def _packed(alloc: Allocation, mask: int) -> int:
    """(lines, units) of `mask` as one comparable int: lines dominate, units break ties."""
    lines, units = _value(alloc, mask)
    return lines << 32 | units


def _greedy_cover(
    alloc: Allocation, groups: list[tuple[int, NodeState]], target: int, limit: int
) -> list[NodeState]:
    picked: list[NodeState] = []
    covered = 0
    while covered != target and len(picked) < limit:
        mask, node = min(
            groups, key=lambda g: (*(-x for x in _value(alloc, g[0] & ~covered)), g[1].rank)
        )
        picked.append(node)
        covered |= mask
    return picked


def _value(alloc: Allocation, mask: int) -> tuple[int, int]:
    """(lines, units) of the products in `mask`."""
    lines = units = 0
    while mask:
        low = mask & -mask
        product = alloc.products[low.bit_length() - 1]
        lines += len(product.lines)
        units += product.needed
        mask ^= low
    return lines, units
