from celery import shared_task

from fulfillment.connectors import ConnectorRefused, ConnectorUnavailable
from fulfillment.services.backorders import BATCH, allocate_backorders
from fulfillment.services.fulfillment_orders import release_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.simulation import run_wms_step
from orders.models import Order


@shared_task(name="fulfillment.tasks.orchestrate_order_task")
def orchestrate_order_task(order_id: int, trigger: str = "capture") -> None:
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


@shared_task(name="fulfillment.tasks.allocate_backorders_task")
def allocate_backorders_task(product_ids: list[int]) -> None:
    result = allocate_backorders(product_ids=product_ids)
    if result["tried"] >= BATCH and result["allocated"]:
        # A full batch that made progress: more orders may be waiting for this stock.
        allocate_backorders_task.delay(product_ids)


@shared_task(name="fulfillment.tasks.simulated_wms_step_task")
def simulated_wms_step_task(fulfillment_id: int, step: str) -> None:
    run_wms_step(fulfillment_id=fulfillment_id, step=step)
