"""reallocate_line(): hold an order line's units at the node another system allocated them to
(a legacy OMS's allocation, migration/importers/reference.py), through the inventory services.

The units are reserved at that node with one conditional UPDATE (inventory.reservations.reserve:
never oversold), then taken off where they were held (release_units, one conditional UPDATE
each) or taken from the line's units no reservation covered yet (a backorder). Only units no
node has been given yet can move: active reservations in no fulfillment order. Units already
at a node (a fulfillment order released there) are refused `allocated_at_node` (the node would
have to give them back first: a cancel request). After commit, orchestration makes the
fulfillment order at the new node and releases it, unless the order is on hold.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from fulfillment.events import ORDER_LINE_REALLOCATED
from fulfillment.services.feedback import schedule_reroute
from fulfillment.services.rollup import rollup_order
from inventory.models import Node, Reservation, ReservationStatus
from inventory.reservations import ReservationRequest, release_units, reserve
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.services import record_event
from orders.locks import lock_order
from orders.models import OPEN_ORDER_STATUSES, HoldStatus, OrderLine


class ReallocationRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=409)


@dataclass
class ReallocationPlan:
    """What reallocate_line() would do: units to reserve at the node, taken from `unreserved`
    units and from `moves` (reservation id → units)."""

    at_node: int = 0
    needed: int = 0
    unreserved: int = 0
    moves: dict[int, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)  # node code → units taken off


def plan_reallocation(line: OrderLine, node: Node, quantity: int) -> ReallocationPlan:
    """Read-only: how `quantity` units of `line` come to be held at `node`. Raises
    ReallocationRefused: `order_closed`, `bad_quantity`, `allocated_at_node`,
    `over_allocation` (more units than the line has left to place)."""
    order = line.order
    if order.status not in OPEN_ORDER_STATUSES:
        raise ReallocationRefused("order_closed", f"{order.number} is {order.status}")
    if quantity <= 0:
        raise ReallocationRefused("bad_quantity", "an allocation places at least one unit")
    reservations = list(
        Reservation.objects.filter(
            order_line=line, status__in=[ReservationStatus.ACTIVE, ReservationStatus.CONSUMED]
        )
        .select_related("node")
        .order_by("pk")
        .values("pk", "node_id", "node__code", "status", "quantity", "consumed_quantity",
                "fulfillment_line")
    )  # fmt: skip
    plan = ReallocationPlan()
    covered = 0
    movable: list[Any] = []  # the reservation rows (values()) no fulfillment order holds
    at_other_nodes: list[str] = []
    for r in reservations:
        if r["status"] == ReservationStatus.CONSUMED:
            covered += int(r["consumed_quantity"])
            continue
        covered += int(r["quantity"])
        if r["node_id"] == node.pk:
            plan.at_node += int(r["quantity"])
        elif r["fulfillment_line"] is None:
            movable.append(r)
        else:
            at_other_nodes.append(str(r["node__code"]))
    plan.needed = max(0, quantity - plan.at_node)
    if not plan.needed:
        return plan
    plan.unreserved = min(plan.needed, max(0, line.live_quantity - covered))
    left = plan.needed - plan.unreserved
    for r in movable:
        if not left:
            break
        take = min(left, int(r["quantity"]))
        plan.moves[int(r["pk"])] = take
        plan.sources[str(r["node__code"])] = plan.sources.get(str(r["node__code"]), 0) + take
        left -= take
    if left and at_other_nodes:
        raise ReallocationRefused(
            "allocated_at_node",
            f"{order.number} line {line.line_number}: {left} unit(s) are already at "
            f"{', '.join(sorted(set(at_other_nodes)))}; that node must give them back first",
        )
    if left:
        raise ReallocationRefused(
            "over_allocation",
            f"{order.number} line {line.line_number} has {line.live_quantity} live unit(s); "
            f"{quantity} cannot be held at {node.code}",
        )
    return plan


def reallocate_line(
    *, order_line_id: int, node_id: int, quantity: int, actor: Actor, reason: str
) -> ReallocationPlan:
    """Hold `quantity` units of the line at the node (module docstring). Idempotent: units
    already held there count, so applying the same allocation again changes nothing. Records
    `order.line_reallocated` when anything moved; refuses as plan_reallocation() does, and
    `node_short` when the node has fewer units available (nothing is written)."""
    with transaction.atomic():
        order = lock_order(
            OrderLine.objects.values_list("order_id", flat=True).get(pk=order_line_id)
        )
        line = OrderLine.objects.select_related("order").get(pk=order_line_id)
        node = Node.objects.get(pk=node_id)
        plan = plan_reallocation(line, node, quantity)
        if not plan.needed:
            return plan
        [held] = reserve(
            requests=[ReservationRequest(node.pk, line.product_id, plan.needed, line.pk)],
            actor=actor,
            reference_id=order.number,
        )
        if held is None:
            raise ReallocationRefused(
                "node_short",
                f"{node.code} has fewer than {plan.needed} of {line.sku} available",
            )
        for reservation_id, units in sorted(plan.moves.items()):
            release_units(
                reservation_id=reservation_id, quantity=units, actor=actor, reason=reason[:200]
            )
        last = record_event(
            stream=order.stream,
            type=ORDER_LINE_REALLOCATED,
            actor=actor,
            payload={
                "line_number": line.line_number,
                "sku": line.sku,
                "node": node.code,
                "quantity": plan.needed,
                "from": [{"node": code, "quantity": q} for code, q in sorted(plan.sources.items())],
                "unreserved": plan.unreserved,
                "reason": reason,
            },
        )
        rollup_order(order, last_event=last)
        if not order.holds.filter(status=HoldStatus.ACTIVE).exists():
            schedule_reroute(order.pk)  # orchestration: the fulfillment order at the new node
    return plan
