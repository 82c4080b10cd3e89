"""What the cutover does when the layers below record a fact (oms/events/handlers.py), in the
same transaction:

- `order.created` of a shadow order: plan it in the shadow on commit (`plan_shadow_order_task`);
- `order.created` of an order oms does not own and that did not come from the legacy system:
  queue it for the legacy system in its format (outbox, migration/services/handoff.py);
- `order.handed_back` (a rollback): queue it for the legacy system the same way.
"""

from typing import Any

from migration.services.handoff import queue_handoff
from migration.tasks import plan_shadow_order_task
from oms.core.transactions import enqueue_on_commit
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from orders.events import ORDER_CREATED, ORDER_HANDED_BACK
from orders.ownership import OrderOwner


@on_event(ORDER_CREATED)
def order_created(event: Event, order: Any) -> None:
    if order.owner == OrderOwner.OMS:
        return
    if order.owner == OrderOwner.SHADOW:
        enqueue_on_commit(plan_shadow_order_task, order.pk)
    if not order.is_legacy_mirror:
        queue_handoff(order=order, reason="not_owned", actor=actor_of(event))


@on_event(ORDER_HANDED_BACK)
def order_handed_back(event: Event, order: Any) -> None:
    queue_handoff(order=order, reason="rolled_back", actor=actor_of(event))
