"""The plain-English sentences of a plan's explanation."""

from collections.abc import Mapping, Sequence

from fulfillment.rules import RuleConfig
from fulfillment.sourcing.outputs import Assignment
from fulfillment.sourcing.state import NodeState, ProductDemand


def single_node_sentence(
    full: list[NodeState], products: list[ProductDemand], rules: RuleConfig
) -> str:
    lines = sum(len(p.lines) for p in products)
    what = f"all {lines} lines" if lines > 1 else f"its only line ({products[0].sku})"
    best = full[0]
    extra = rules.weights.shipments
    sentence = (
        f"Chose {best.src.code} for {what}: one shipment, {_miles(best)}, "
        f"score {(best.score or 0.0) + extra:.1f}"
    )
    if len(full) == 1:
        return sentence + "; no other node could fill it alone."
    runner = full[1]
    score = f"{(runner.score or 0.0) + extra:.1f}"
    if len(full) == 2:
        return sentence + f"; {runner.src.code} could also fill it but scored {score}."
    return (
        sentence + f"; {len(full) - 1} other nodes could also fill it, the best of them "
        f"{runner.src.code} scored {score}."
    )


def passed_over_sentence(
    chosen: NodeState, eligible: list[NodeState], products: list[ProductDemand], rules: RuleConfig
) -> str | None:
    """Why nodes that scored better than the chosen one lost: each can fill only part of the
    order, so using them means a split, and every shipment adds the shipments weight. Names the
    best three (by rank). None when no better-scored node was passed over."""
    whole = (1 << len(products)) - 1
    better = [n for n in eligible if n.rank < chosen.rank and n.mask != whole]
    if not better:
        return None
    named = ", ".join(
        f"{n.src.code} ({_miles(n)}, score {n.score or 0.0:.1f}, "
        f"{n.mask.bit_count()} of {len(products)} SKUs)"
        for n in better[:3]
    )
    more = f" and {len(better) - 3} more" if len(better) > 3 else ""
    nodes = "node" if len(better) == 1 else "nodes"
    weight = rules.weights.shipments
    # Any split uses two nodes or more: its score is at least the two best node scores plus two
    # shipments (lower is better), against the chosen node's plus one.
    best_two = sorted(n.score or 0.0 for n in eligible)[:2]
    return (
        f"Passed over {len(better)} better-scored {nodes} that can fill only part of the order: "
        f"{named}{more}. A split takes at least 2 shipments vs 1 (each adds {weight:.1f}): it "
        f"would score at least {sum(best_two) + 2 * weight:.1f}, against "
        f"{(chosen.score or 0.0) + weight:.1f} for {chosen.src.code} alone."
    )


def split_sentence(
    used: list[NodeState],
    assignments: Sequence[Assignment],
    skus: Mapping[int, str],
    rules: RuleConfig,
) -> str:
    parts = []
    for node in used:
        items = ", ".join(
            f"{skus[a.line_id]} ×{a.quantity}" for a in assignments if a.node_id == node.src.node_id
        )
        parts.append(f"{node.src.code} ships {items} ({_miles(node)}, score {node.score:.1f})")
    total = sum(n.score or 0.0 for n in used) + rules.weights.shipments * len(used)
    return (
        f"No single node could fill every line: split into {len(used)} shipments: "
        f"{'; '.join(parts)}. Total score {total:.1f}."
    )


def _miles(node: NodeState) -> str:
    return "distance unknown" if node.distance is None else f"{node.distance:.0f} miles"


def exclusion_summary(evaluated: list[NodeState]) -> str:
    counts: dict[str, int] = {}
    for node in evaluated:
        if not node.eligible:
            for code in sorted({e.filter for e in node.exclusions if not e.sku}):
                counts[code] = counts.get(code, 0) + 1
    excluded = sum(1 for n in evaluated if not n.eligible)
    if not excluded:
        return f"All {len(evaluated)} nodes passed the filters."
    detail = ", ".join(
        f"{code} {n}" for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f"Not eligible: {excluded} of {len(evaluated)} nodes ({detail})."


def either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
