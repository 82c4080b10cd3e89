"""The shadow run: oms plans the legacy system's orders and keeps its decision next to theirs.

- `plan_shadow_order()` (on commit after a shadow order's capture, by
  `plan_shadow_order_task`): plan with the channel's active rule set without reserving
  (fulfillment/services/dry_plan.py) and store a `ShadowDecision` with `order.shadow_planned`.
- `record_legacy_decision()`: what the legacy system decided (nodes and quantities, or
  cancelled), from the legacy feed endpoint or a mapping file, with
  `order.legacy_decision_recorded`. A resend of the same decision changes nothing.
- `mirror_legacy_order()`: the legacy feed's one call: capture the order as a mirror (it never
  goes back to the legacy system) and record the legacy decision, in one transaction.

Both decisions keep each node's distance to the destination, so the diff (migration/selectors.py)
needs no geography.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from fulfillment.services.dry_plan import plan_without_reserving
from fulfillment.services.routing import destination_of
from fulfillment.sourcing import Destination
from inventory.models import Node
from migration.exceptions import CutoverErrorCode, CutoverRefused
from migration.models import LegacyDecision, ShadowDecision
from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from oms.core.geo import haversine_miles
from oms.events.services import record_event
from orders.events import ORDER_LEGACY_DECISION_RECORDED, ORDER_SHADOW_PLANNED
from orders.locks import lock_order
from orders.models import Channel, Order, OrderStatus
from orders.ownership import OrderOwner
from orders.services.capture import OrderInput, capture_order

SYSTEM = Actor.system("shadow run")


@dataclass(frozen=True)
class LegacyAllocation:
    node: str
    sku: str
    quantity: int


def node_miles_to(codes: set[str], destination: Destination) -> dict[str, float | None]:
    nodes = Node.objects.filter(code__in=sorted(codes)).values_list("code", "latitude", "longitude")
    miles: dict[str, float | None] = dict.fromkeys(sorted(codes))
    if destination.latitude is None or destination.longitude is None:
        return miles
    for code, lat, lon in nodes:
        if lat is not None and lon is not None:
            miles[code] = round(
                haversine_miles(
                    destination.latitude, destination.longitude, float(lat), float(lon)
                ),
                1,
            )
    return miles


def plan_shadow_order(*, order_id: int) -> ShadowDecision | None:
    """Idempotent: None when the order is not a shadow order, was planned before, or was
    cancelled (by the legacy system) before it could be planned."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.owner != OrderOwner.SHADOW or ShadowDecision.objects.filter(order=order).exists():
            return None
        if order.status == OrderStatus.CANCELLED:
            return None  # the legacy system cancelled it before oms planned: nothing to compare
        dry = plan_without_reserving(order)
        skus = dict(order.lines.values_list("pk", "sku"))
        allocations = [
            {"node": a.node_code, "sku": skus[a.line_id], "quantity": a.quantity}
            for a in dry.plan.assignments
        ]
        decision = ShadowDecision.objects.create(
            order=order,
            rule_set=dry.rule_set,
            outcome=dry.plan.outcome,
            allocations=allocations,
            plan=dry.plan.to_stored_dict(),
            node_miles=node_miles_to({a.node_code for a in dry.plan.assignments}, dry.destination),
        )
        record_event(
            stream=order.stream,
            type=ORDER_SHADOW_PLANNED,
            actor=SYSTEM,
            payload={
                "order": order.number,
                "outcome": decision.outcome,
                "allocations": allocations,
                "rule_set": (
                    {"key": dry.rule_set.key, "version": dry.rule_set.version}
                    if dry.rule_set
                    else None
                ),
            },
        )
    return decision


def _check_allocations(order: Order, allocations: Sequence[LegacyAllocation]) -> None:
    errors: list[FieldError] = []
    ordered = dict(order.lines.values_list("sku", "quantity"))
    known = set(
        Node.objects.filter(code__in={a.node for a in allocations}).values_list("code", flat=True)
    )
    for index, allocation in enumerate(allocations):
        path = f"allocations[{index}]"
        if allocation.node not in known:
            errors.append(
                FieldError("unknown_node", f"No node {allocation.node!r}.", f"{path}.node")
            )
        if allocation.sku not in ordered:
            errors.append(
                FieldError("unknown_sku", f"{allocation.sku} is not on the order.", f"{path}.sku")
            )
        if allocation.quantity < 1:
            errors.append(FieldError("bad_quantity", "At least 1.", f"{path}.quantity"))
    for sku, quantity in ordered.items():
        allocated = sum(a.quantity for a in allocations if a.sku == sku)
        if allocated > quantity:
            errors.append(
                FieldError("over_allocated", f"{allocated} of {sku} > {quantity}.", "allocations")
            )
    if errors:
        raise InvalidInput(errors)


def record_legacy_decision(
    *,
    order_id: int,
    allocations: Sequence[LegacyAllocation],
    source: str,
    is_cancelled: bool = False,
    decided_at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> LegacyDecision:
    """Store (or correct) the legacy system's decision. Refused for an order oms owns."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.owner == OrderOwner.OMS:
            raise CutoverRefused(
                CutoverErrorCode.NOT_SHADOW, f"{order.number} is oms's: it has no legacy decision."
            )
        _check_allocations(order, allocations)
        rows = [
            {"node": a.node, "sku": a.sku, "quantity": a.quantity}
            for a in sorted(allocations, key=lambda a: (a.node, a.sku))
        ]
        existing = LegacyDecision.objects.filter(order=order).first()
        if (
            existing is not None
            and existing.allocations == rows
            and existing.is_cancelled == is_cancelled
        ):
            return existing  # a resend
        miles = node_miles_to({a.node for a in allocations}, destination_of(order))
        decision, _created = LegacyDecision.objects.update_or_create(
            order=order,
            defaults={
                "allocations": rows,
                "is_cancelled": is_cancelled,
                "source": source,
                "decided_at": decided_at,
                "node_miles": miles,
            },
        )
        record_event(
            stream=order.stream,
            type=ORDER_LEGACY_DECISION_RECORDED,
            actor=actor,
            payload={
                "order": order.number,
                "source": source,
                "allocations": rows,
                "is_cancelled": is_cancelled,
                "corrected": existing is not None,
            },
        )
    return decision


def mirror_legacy_order(
    *,
    channel: Channel,
    data: OrderInput,
    allocations: Sequence[LegacyAllocation],
    actor: Actor,
    source: str = "api",
) -> Order:
    """Capture a legacy order as a mirror and record the legacy decision (one transaction)."""
    if not data.legacy_mirror:
        raise ValueError("mirror_legacy_order needs an OrderInput with legacy_mirror=True")
    with transaction.atomic():
        order = capture_order(channel=channel, data=data, actor=actor)
        if allocations:
            record_legacy_decision(
                order_id=order.pk, allocations=allocations, source=source, actor=actor
            )
    return order
