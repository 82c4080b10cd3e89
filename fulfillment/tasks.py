from celery import shared_task
from django.utils import timezone

from fulfillment.connectors import ConnectorRefused, ConnectorUnavailable
from fulfillment.models import RoutingTrigger
from fulfillment.services.backorders import BATCH, allocate_backorders
from fulfillment.services.feedback import expire_pickup
from fulfillment.services.fulfillment_orders import release_fulfillment
from fulfillment.services.node_requests import send_node_request
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.order_cancellation import cancel_unpaid_order
from fulfillment.services.payment_capture import capture_shipped_payment
from fulfillment.services.simulation import run_wms_step
from fulfillment.services.sweeper import find_due_work
from fulfillment.x12.inbox import INBOX_SETTLE_SECONDS, import_x12_inbox
from oms.core.actors import Actor
from orders.models import Order
from orders.payments import PaymentUnavailable
from orders.services.payments import void_cancelled_order_payment

SWEEPER = Actor.system("sweeper")


@shared_task(name="fulfillment.tasks.orchestrate_order_task")
def orchestrate_order_task(order_id: int, trigger: str = RoutingTrigger.CAPTURE.value) -> None:
    if not Order.objects.filter(pk=order_id).exists():
        return  # the order's transaction rolled back or it was purged: nothing to do
    orchestrate_order(order_id=order_id, trigger=trigger)


@shared_task(
    name="fulfillment.tasks.release_fulfillment_task",
    autoretry_for=(ConnectorUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def release_fulfillment_task(fulfillment_id: int) -> None:
    try:
        release_fulfillment(fulfillment_id=fulfillment_id)
    except ConnectorRefused:
        return  # terminal: recorded on the fulfillment order for a person to look at


@shared_task(
    name="fulfillment.tasks.capture_shipped_payment_task",
    autoretry_for=(PaymentUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def capture_shipped_payment_task(order_id: int) -> None:
    capture_shipped_payment(order_id=order_id)


@shared_task(
    name="fulfillment.tasks.void_cancelled_payment_task",
    autoretry_for=(PaymentUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def void_cancelled_payment_task(order_id: int) -> None:
    tx = void_cancelled_order_payment(order_id=order_id)
    if tx is not None and tx.status == "pending":
        raise PaymentUnavailable(f"void of order {order_id} has no answer yet")


@shared_task(
    name="fulfillment.tasks.send_node_request_task",
    autoretry_for=(ConnectorUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
def send_node_request_task(request_id: int) -> None:
    try:
        send_node_request(request_id=request_id)
    except ConnectorRefused:
        return  # terminal: kept on the request (last_error) for a person to look at


@shared_task(name="fulfillment.tasks.allocate_backorders_task")
def allocate_backorders_task(product_ids: list[int]) -> None:
    result = allocate_backorders(product_ids=product_ids)
    if result["tried"] >= BATCH and result["allocated"]:
        # A full batch that made progress: more orders may be waiting for this stock.
        allocate_backorders_task.delay(product_ids)


@shared_task(name="fulfillment.tasks.simulated_wms_step_task")
def simulated_wms_step_task(fulfillment_id: int, step: str) -> None:
    run_wms_step(fulfillment_id=fulfillment_id, step=step)


@shared_task(name="fulfillment.tasks.sweep_due_work_task")
def sweep_due_work_task() -> dict[str, int]:
    """Re-send what is due but not done (see fulfillment/services/sweeper.py)."""
    due = find_due_work(now=timezone.now())
    for order_id in due.orchestrate:
        orchestrate_order_task.delay(order_id, RoutingTrigger.SWEEPER.value)
    for fulfillment_id in due.release:
        release_fulfillment_task.delay(fulfillment_id)
    if due.backorder_products:
        allocate_backorders_task.delay(due.backorder_products)
    for fulfillment_id in due.expire:
        expire_pickup(fulfillment_id=fulfillment_id, actor=SWEEPER)
    for order_id in due.capture:
        capture_shipped_payment_task.delay(order_id)
    for order_id in due.void:
        void_cancelled_payment_task.delay(order_id)
    for request_id in due.node_requests:
        send_node_request_task.delay(request_id)
    for order_id in due.unpaid:
        cancel_unpaid_order(order_id=order_id)
    return {kind: len(ids) for kind, ids in vars(due).items()}


@shared_task(name="fulfillment.tasks.import_x12_inbox_task")
def import_x12_inbox_task() -> dict[str, int]:
    """Apply the 945 files waiting in OMS_X12_INBOX_DIR (fulfillment/x12/inbox.py)."""
    results = import_x12_inbox(min_age_seconds=INBOX_SETTLE_SECONDS)
    return {
        "files": len(results),
        "applied": sum(r.applied for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "errors": sum(len(r.errors) for r in results),
    }
