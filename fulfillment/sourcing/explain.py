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
