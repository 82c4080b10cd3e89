"""orchestrate_order(): take one order to its next step.

Open and not held → route what is not yet reserved (active rule set) → one fulfillment order
per node for the new reservations → release every pending fulfillment order to its node. Nodes
whose connector pushes nothing (the API connector: the node pulls its work) are released in the
same transaction (release_pulled); the others get a task per fulfillment order, on commit (the
orchestration task releases them itself right after its commit instead: fulfillment/tasks.py,
orchestrate_order_for_release). Safe to run any number of
times, from any number of workers: every step locks the order and re-reads state, routing only
routes what is not yet reserved, and a fulfillment order is only released from pending.
"""

import enum
import logging

from django.db import transaction

from fulfillment.models import RoutingOutcome
from fulfillment.services.fulfillment_orders import (
    create_fulfillment_orders_and_pending,
    release_pulled,
    schedule_release,
)
from fulfillment.services.rollup import StatusWrites
from fulfillment.services.routing import route_locked_order
from oms.core.actors import Actor
from oms.events.services import events_in_one_insert
from orders.locks import lock_order_and_holds
from orders.models import OPEN_ORDER_STATUSES
from orders.ownership import OrderOwner

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("orchestrator")


class Outcome(enum.StrEnum):
    CLOSED = "closed"  # cancelled or finished: nothing to do
    NOT_OWNED = "not_owned"  # the legacy system owns it (cutover plan): oms decides nothing
    ON_HOLD = "on_hold"  # an active hold stops everything
    NOTHING_TO_ROUTE = "nothing_to_route"  # already allocated
    ROUTED = "routed"
    PARTIALLY_BACKORDERED = "partially_backordered"
    BACKORDERED = "backordered"
    UNROUTABLE = "unroutable"


_FROM_ROUTING = {
    RoutingOutcome.ROUTED: Outcome.ROUTED,
    RoutingOutcome.PARTIALLY_BACKORDERED: Outcome.PARTIALLY_BACKORDERED,
    RoutingOutcome.BACKORDERED: Outcome.BACKORDERED,
    RoutingOutcome.REJECTED: Outcome.UNROUTABLE,
}


def orchestrate_order(*, order_id: int, trigger: str = "capture") -> Outcome:
    """Orchestrate the order; its pending fulfillment orders are sent to release tasks on
    commit."""
    outcome, _pending = _orchestrate(order_id=order_id, trigger=trigger)
    return outcome


def orchestrate_order_for_release(
    *, order_id: int, trigger: str = "capture"
) -> tuple[Outcome, list[int]]:
    """orchestrate_order() without scheduling the releases: returns the outcome and the ids of
    the pending fulfillment orders, committed, for the caller to release right away (the
    orchestration task does, in its own process: one broker round trip less per order)."""
    return _orchestrate(order_id=order_id, trigger=trigger, schedule=False)


def _orchestrate(
    *, order_id: int, trigger: str, schedule: bool = True
) -> tuple[Outcome, list[int]]:
    pending: list[int] = []
    # The events without a subject (routed, status changes, fulfillment created and released)
    # go in with one INSERT at the end of the block, inside the transaction.
    with transaction.atomic(), events_in_one_insert():
        order, on_hold = lock_order_and_holds(order_id)
        if order.status not in OPEN_ORDER_STATUSES:
            outcome = Outcome.CLOSED
        elif order.owner != OrderOwner.OMS:
            outcome = Outcome.NOT_OWNED
        elif on_hold:
            outcome = Outcome.ON_HOLD
        else:
            # The order is locked here: routing neither opens a savepoint nor locks it again,
            # and the fulfillment orders' events follow routing's without a sequence lookup.
            # The roll-ups' status moves (allocated, then released) are written once, at the
            # end: their events are recorded as they happen (rollup.StatusWrites).
            writes = StatusWrites()
            routed = route_locked_order(order, actor=SYSTEM, trigger=trigger, writes=writes)
            decision = routed.decision
            created, pending, last_event = create_fulfillment_orders_and_pending(
                order=order, actor=SYSTEM, last_event=routed.last_event
            )
            # Nodes that pull their work (the API connector) are released right here, under
            # this lock: one transaction and one commit per order instead of two.
            pending = release_pulled(
                order=order,
                fulfillment_ids=pending,
                created=created,
                last_event=last_event,
                lines=routed.lines,
                figures=routed.figures,
                writes=writes,
            )
            writes.flush()
            if schedule:
                schedule_release(pending)
            outcome = (
                _FROM_ROUTING[RoutingOutcome(decision.outcome)]
                if decision is not None
                else Outcome.NOTHING_TO_ROUTE
            )
    logger.info("orchestrated order", extra={"order": order.number, "outcome": str(outcome)})
    return outcome, pending
