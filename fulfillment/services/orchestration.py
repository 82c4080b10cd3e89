"""orchestrate_order(): decide the next step for one order.

The gate (is the order open, is anything holding it) is here now; routing, reservation and
release to nodes plug in behind it as the sourcing engine lands (issues 3 and 4). It is safe to
run any number of times, from any number of workers: it locks the order and re-reads state.
"""

import enum
import logging

from django.db import transaction

from orders.locks import lock_order
from orders.models import OPEN_ORDER_STATUSES, HoldStatus

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    CLOSED = "closed"  # cancelled or finished: nothing to do
    ON_HOLD = "on_hold"  # an active hold stops everything
    AWAITING_ROUTING = "awaiting_routing"  # ready; the sourcing engine takes it from here


def orchestrate_order(*, order_id: int) -> Outcome:
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status not in OPEN_ORDER_STATUSES:
            outcome = Outcome.CLOSED
        elif order.holds.filter(status=HoldStatus.ACTIVE).exists():
            outcome = Outcome.ON_HOLD
        else:
            outcome = Outcome.AWAITING_ROUTING
    logger.info("orchestrated order", extra={"order": order.number, "outcome": str(outcome)})
    return outcome
