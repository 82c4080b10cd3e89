from celery import shared_task

from fulfillment.services.orchestration import orchestrate_order
from orders.models import Order


@shared_task(name="fulfillment.tasks.orchestrate_order_task")
def orchestrate_order_task(order_id: int) -> None:
    if not Order.objects.filter(pk=order_id).exists():
        return  # the order's transaction rolled back or it was purged: nothing to do
    orchestrate_order(order_id=order_id)
