from celery import shared_task

from fulfillment.services.backorders import BATCH, allocate_backorders
from fulfillment.services.orchestration import orchestrate_order
from orders.models import Order


@shared_task(name="fulfillment.tasks.orchestrate_order_task")
def orchestrate_order_task(order_id: int) -> None:
    if not Order.objects.filter(pk=order_id).exists():
        return  # the order's transaction rolled back or it was purged: nothing to do
    orchestrate_order(order_id=order_id)


@shared_task(name="fulfillment.tasks.allocate_backorders_task")
def allocate_backorders_task(product_ids: list[int]) -> None:
    result = allocate_backorders(product_ids=product_ids)
    if result["tried"] >= BATCH and result["allocated"]:
        # A full batch that made progress: more orders may be waiting for this stock.
        allocate_backorders_task.delay(product_ids)
