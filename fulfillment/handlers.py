"""What fulfillment does when the layers below it record a fact (oms/events/handlers.py).

Orders and inventory never import fulfillment; they record events, and these handlers run in
the same transaction:

- `order.created`: orchestrate the order on commit (route, reserve, release), when oms owns
  it (`Order.owner`, from the channel's cutover plan: orders/ownership.py);
- `order.hold_released` with no active hold left: orchestrate on commit;
- `order.line_cancelled`: take the units off fulfillment orders, or refuse units at a node
  unless the node confirmed (fulfillment/services/cancellation.py);
- `order.cancelled`: on commit, void the authorization of an uncaptured payment;
- `fulfillment.shipped`: refuse the fulfillment order's open node requests (`already_shipped`);
- `inventory.stock_initialized`, `inventory.snapshot_applied`, `inventory.adjusted`,
  `inventory.return_restocked` that made
  products available (their subject, `NodeStockChange`, names them): on commit, let backordered
  lines of those products try the new stock.

Scheduling on commit can be lost with its process or its broker (a message the broker cannot take
is logged, not raised: oms.core.transactions.enqueue_on_commit); the sweeper
(fulfillment/services/sweeper.py) re-derives every one of these from the database.
"""

from typing import Any

from fulfillment.events import FULFILLMENT_SHIPPED
from fulfillment.models import RoutingTrigger
from fulfillment.services.cancellation import take_cancelled_line_off
from fulfillment.services.node_requests import refuse_requests_of_shipped
from fulfillment.tasks import (
    allocate_backorders_task,
    orchestrate_order_task,
    void_cancelled_payment_task,
)
from inventory.events import (
    INVENTORY_ADJUSTED,
    INVENTORY_RETURN_RESTOCKED,
    INVENTORY_SNAPSHOT_APPLIED,
    INVENTORY_STOCK_INITIALIZED,
    NodeStockChange,
)
from oms.core.transactions import enqueue_on_commit
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from orders.events import (
    ORDER_CANCELLED,
    ORDER_CREATED,
    ORDER_HOLD_RELEASED,
    ORDER_LINE_CANCELLED,
)
from orders.ownership import OrderOwner


@on_event(ORDER_CREATED)
def order_created(event: Event, order: Any) -> None:
    if order.owner != OrderOwner.OMS:
        return  # the legacy system's order (cutover plan): never routed, reserved or sent
    # The task's default trigger is `capture`: the one message per order on the hot path
    # carries just the id.
    enqueue_on_commit(orchestrate_order_task, order.pk)


@on_event(ORDER_HOLD_RELEASED)
def hold_released(event: Event, order: Any) -> None:
    if event.payload["active_holds_remaining"] == 0:
        enqueue_on_commit(orchestrate_order_task, order.pk, RoutingTrigger.HOLD_RELEASED.value)


@on_event(ORDER_LINE_CANCELLED)
def line_cancelled(event: Event, line: Any) -> None:
    take_cancelled_line_off(line=line, actor=actor_of(event), cause=event)


@on_event(ORDER_CANCELLED)
def order_cancelled(event: Event, order: Any) -> None:
    enqueue_on_commit(void_cancelled_payment_task, order.pk)


@on_event(FULFILLMENT_SHIPPED)
def shipped(event: Event, fulfillment: Any) -> None:
    refuse_requests_of_shipped(fo=fulfillment, actor=actor_of(event))


@on_event(
    INVENTORY_STOCK_INITIALIZED,
    INVENTORY_SNAPSHOT_APPLIED,
    INVENTORY_ADJUSTED,
    INVENTORY_RETURN_RESTOCKED,
)
def restocked(event: Event, change: NodeStockChange) -> None:
    if change.restocked_product_ids:
        product_ids = sorted(set(change.restocked_product_ids))
        enqueue_on_commit(allocate_backorders_task, product_ids)
