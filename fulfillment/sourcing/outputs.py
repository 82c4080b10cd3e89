"""What `plan_order` returns: the `Plan` and its parts. `Plan.to_dict()` is the whole plan;
`Plan.to_stored_dict()` is the compact form a routing decision stores."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["routed", "partially_backordered", "backordered", "rejected"]

# What a routing decision keeps of the candidates besides the chosen nodes: the best-scored
# eligible nodes that were not chosen, and the best-scored excluded nodes (what they would have
# scored), each with its reasons. The rest is counted per filter.
STORED_ALTERNATIVES = 10
STORED_EXCLUDED = 10


@dataclass(frozen=True)
class Assignment:
    line_id: int
    node_id: int
    node_code: str
    quantity: int


@dataclass(frozen=True)
class Backorder:
    line_id: int
    quantity: int


@dataclass(frozen=True)
class Exclusion:
    filter: str
    reason: str
    sku: str | None = None  # set when only this product is excluded at the node


@dataclass(frozen=True)
class CandidateReport:
    node_id: int
    code: str
    kind: str
    eligible: bool  # False when excluded at node level (or nothing usable): never routed to
    excluded: tuple[Exclusion, ...]
    distance_miles: float | None  # None: destination unknown
    usable: Mapping[str, int]  # sku -> quantity the node may route, when more than 0
    score_components: Mapping[str, float]
    score: float | None  # None: not scored (not the pickup node)


@dataclass(frozen=True)
class Plan:
    outcome: Outcome
    assignments: tuple[Assignment, ...]
    backordered: tuple[Backorder, ...]  # for "rejected": what could not be filled
    shipments: int
    score: float
    candidates: tuple[CandidateReport, ...]
    explanation: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the whole plan, every candidate included."""
        return self._as_dict(self.candidates)

    def to_stored_dict(
        self, *, alternatives: int = STORED_ALTERNATIVES, excluded: int = STORED_EXCLUDED
    ) -> dict[str, Any]:
        """What a routing decision stores: `to_dict()` with only the candidates worth reading
        (the chosen nodes, the `alternatives` best-scored other eligible nodes and the
        `excluded` best-scored ineligible ones, by code like `to_dict()`), plus
        `candidates_total`, `candidates_eligible` and `exclusion_counts` (filter -> number of
        nodes with at least one exclusion by that filter, over every candidate)."""
        chosen_ids = {a.node_id for a in self.assignments}
        chosen: list[CandidateReport] = []
        others: list[CandidateReport] = []
        ineligible: list[CandidateReport] = []
        counts: dict[str, int] = {}
        for c in self.candidates:
            excluded_by = c.excluded
            if excluded_by:
                # Counter.update() per node was a third of this method's CPU (200 nodes).
                if len(excluded_by) == 1:
                    name = excluded_by[0].filter
                    counts[name] = counts.get(name, 0) + 1
                else:
                    for name in {e.filter for e in excluded_by}:
                        counts[name] = counts.get(name, 0) + 1
            if c.node_id in chosen_ids:
                chosen.append(c)
            elif c.eligible:
                others.append(c)
            else:
                ineligible.append(c)
        kept = (
            chosen
            + sorted(others, key=_best_first)[:alternatives]
            + sorted(ineligible, key=_best_first)[:excluded]
        )
        kept.sort(key=lambda c: (c.code, c.node_id))
        return {
            **self._as_dict(kept),
            "candidates_total": len(self.candidates),
            "candidates_eligible": len(chosen) + len(others),
            "exclusion_counts": dict(sorted(counts.items())),
        }

    def _as_dict(self, candidates: Sequence[CandidateReport]) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "assignments": [_fields(a) for a in self.assignments],
            "backordered": [_fields(b) for b in self.backordered],
            "shipments": self.shipments,
            "score": _round(self.score),
            "candidates": [_candidate(c) for c in candidates],
            "explanation": list(self.explanation),
        }


def _best_first(c: CandidateReport) -> tuple[bool, float, str, int]:
    """Lowest score first (unscored last), then code and id: deterministic."""
    return (c.score is None, c.score if c.score is not None else 0.0, c.code, c.node_id)


def _candidate(c: CandidateReport) -> dict[str, Any]:
    return {
        "node_id": c.node_id,
        "code": c.code,
        "kind": c.kind,
        "eligible": c.eligible,
        "excluded": [_fields(e) for e in c.excluded],
        "distance_miles": _round(c.distance_miles, 1),
        "usable": dict(sorted(c.usable.items())),
        "score_components": {k: _round(v) for k, v in sorted(c.score_components.items())},
        "score": _round(c.score),
    }


def _fields(obj: Any) -> dict[str, Any]:
    return dict(obj.__dict__)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits) + 0.0  # + 0.0: no "-0.0" in JSON
