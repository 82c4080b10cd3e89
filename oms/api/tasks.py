from celery import shared_task

from oms.api.idempotency import purge_expired_keys


@shared_task(name="oms.api.tasks.purge_expired_idempotency_keys_task")
def purge_expired_idempotency_keys_task() -> int:
    return purge_expired_keys()
