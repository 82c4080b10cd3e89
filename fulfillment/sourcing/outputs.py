"""What `plan_order` returns: the `Plan` and its parts; `Plan.to_dict()` is what gets stored."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["routed", "partially_backordered", "backordered", "rejected"]


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
        """JSON-serialisable form, stored with the routing decision."""
        return {
            "outcome": self.outcome,
            "assignments": [_fields(a) for a in self.assignments],
            "backordered": [_fields(b) for b in self.backordered],
            "shipments": self.shipments,
            "score": _round(self.score),
            "candidates": [
                {
                    "node_id": c.node_id,
                    "code": c.code,
                    "kind": c.kind,
                    "eligible": c.eligible,
                    "excluded": [_fields(e) for e in c.excluded],
                    "distance_miles": _round(c.distance_miles, 1),
                    "usable": dict(sorted(c.usable.items())),
                    "score_components": {
                        k: _round(v) for k, v in sorted(c.score_components.items())
                    },
                    "score": _round(c.score),
                }
                for c in self.candidates
            ],
            "explanation": list(self.explanation),
        }


def _fields(obj: Any) -> dict[str, Any]:
    return dict(obj.__dict__)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits) + 0.0  # + 0.0: no "-0.0" in JSON
