from celery import shared_task

from oms.core.transactions import DATABASE_ERRORS
from orders.payments import PaymentUnavailable
from orders.services.payments import capture_payment


@shared_task(
    name="orders.tasks.capture_payment_task",
    autoretry_for=(PaymentUnavailable, *DATABASE_ERRORS),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def capture_payment_task(order_id: int) -> None:
    capture_payment(order_id=order_id)
