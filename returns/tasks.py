"""Celery wrappers of the returns services: take ids, call one service, survive running twice."""

import logging

from celery import shared_task

from oms.core.actors import Actor
from oms.core.errors import DomainError
from orders.payments import PaymentUnavailable
from returns.services.exchanges import charge_overdue_exchange, overdue_exchange_ids
from returns.services.labels import LabelNotBought, create_return_label
from returns.services.refunds import NothingToRefund, refund_return
from returns.services.sweeper import find_due_refunds

SYSTEM = Actor.system("returns")
logger = logging.getLogger(__name__)


@shared_task(
    name="returns.tasks.refund_return_task",
    autoretry_for=(PaymentUnavailable,),
    retry_backoff=True,
    max_retries=8,
)
def refund_return_task(return_id: int) -> None:
    """After inspection: refund what the return is worth (idempotent: a second run finds the
    refund done, or nothing left to refund)."""
    try:
        refund_return(return_id=return_id, actor=SYSTEM)
    except NothingToRefund:
        return


@shared_task(name="returns.tasks.create_return_label_task", bind=True, max_retries=8)
def create_return_label_task(self, return_id: int) -> None:  # type: ignore[no-untyped-def]  # celery's bound task
    """After authorization: buy the return label (idempotent: a labelled return keeps its
    label). A carrier that did not answer is tried again with backoff."""
    try:
        create_return_label(return_id=return_id, actor=SYSTEM)
    except LabelNotBought as exc:
        if exc.http_status == 503:
            raise self.retry(countdown=60 * 2**self.request.retries) from exc


@shared_task(name="returns.tasks.sweep_returns_task")
def sweep_returns_task() -> dict[str, int]:
    """Hourly: charge advance exchanges whose return is overdue; refund inspected returns whose
    refund task was lost; resume refunds the provider never answered. An exchange that cannot
    be charged (its replacement's payment refused, the provider away) is logged and tried again
    next hour; it holds up neither the other exchanges nor the refunds."""
    charged = 0
    for exchange_id in overdue_exchange_ids():
        try:
            charge_overdue_exchange(exchange_id=exchange_id)
        except (DomainError, PaymentUnavailable) as exc:
            logger.warning(
                "overdue exchange not charged",
                extra={"exchange": exchange_id, "code": getattr(exc, "code", type(exc).__name__)},
            )
        charged += 1
    refunds = find_due_refunds()
    for return_id in refunds:
        refund_return_task.delay(return_id)
    return {"exchanges_checked": charged, "refunds_sent": len(refunds)}
