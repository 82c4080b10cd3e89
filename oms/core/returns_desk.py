"""A port (docs/adr/0005-layers.md): a returns desk, where a node's people receive and inspect
customer returns. The kernel defines its shape and knows no app: the app that keeps returns
registers its desk when it loads (`register_returns_desk()`), and a screen that is not allowed to
import that app calls `returns_desk()` with the ids of the nodes the person works at, which scope
every read and write, and gets plain values back.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from oms.core.actors import Actor


@dataclass(frozen=True)
class DeskLine:
    line_number: int
    sku: str
    name: str
    quantity: int
    reason: str
    condition: str
    received: int
    dispositions: dict[str, int]
    reported_damaged: int = 0  # units the receiving node reported damaged (944 W13)


@dataclass(frozen=True)
class DeskReturn:
    id: int
    number: str
    order_number: str
    customer_name: str
    status: str
    status_label: str
    expected_node: str  # the name of the node it is expected at ("" when any)
    received_node: str
    received_node_id: int | None
    exchange: str  # "", "even", "advance"
    created_at: datetime
    received_at: datetime | None
    lines: tuple[DeskLine, ...]
    receivable: bool
    inspectable: bool

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class ReturnsDesk(Protocol):
    def expected(self, node_ids: list[int]) -> list[DeskReturn]:
        """Returns on their way to these nodes (authorized or in transit)."""
        ...

    def received(self, node_ids: list[int], limit: int) -> list[DeskReturn]:
        """The latest returns received at these nodes."""
        ...

    def find(self, number: str, node_ids: list[int]) -> DeskReturn | None:
        """By its exact number: one any of these nodes may receive, or received at them."""
        ...

    def receive(
        self,
        *,
        number: str,
        node_id: int,
        node_ids: list[int],
        received: dict[int, int],
        actor: Actor,
        source: str,
        message_id: str,
    ) -> DeskReturn:
        """Count the units that arrived at `node_id` (one of `node_ids`); idempotent per
        (source, message_id). Raises DomainError with words for a person."""
        ...

    def inspect(
        self,
        *,
        number: str,
        node_ids: list[int],
        dispositions: dict[int, dict[str, int]],
        actor: Actor,
        note: str,
        source: str = "",
        message_id: str = "",
    ) -> DeskReturn:
        """A disposition for every unit received at one of `node_ids`; with a `message_id`
        (the form's token), idempotent per (source, message_id): a double tap has one effect."""
        ...


_DESK: list[ReturnsDesk] = []


def register_returns_desk(desk: ReturnsDesk) -> None:
    _DESK[:] = [desk]


def returns_desk() -> ReturnsDesk:
    if not _DESK:
        raise LookupError("no returns desk registered: no installed app keeps returns")
    return _DESK[0]


def inspection_start(received: int, reported_damaged: int) -> dict[str, int]:
    """Where an inspection of a line starts: the units the node reported damaged as damaged,
    the rest back on sale. The inspector changes what they see otherwise."""
    damaged = max(0, min(reported_damaged, received))
    return {"restock": received - damaged, "damaged": damaged}
