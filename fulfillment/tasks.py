from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from fulfillment.connectors import ConnectorRefused, ConnectorUnavailable
from fulfillment.models import RoutingTrigger
from fulfillment.services.backorders import BATCH, allocate_backorders
from fulfillment.services.feedback import expire_pickup
from fulfillment.services.fulfillment_orders import release_fulfillment
from fulfillment.services.node_requests import send_node_request
from fulfillment.services.orchestration import orchestrate_order_for_release
from fulfillment.services.order_cancellation import cancel_unpaid_order
from fulfillment.services.payment_capture import capture_shipped_payment
from fulfillment.services.simulation import run_wms_step
from fulfillment.services.sweeper import find_due_work
from fulfillment.x12.inbox import INBOX_SETTLE_SECONDS, import_x12_inbox
from oms.core.actors import Actor
from oms.core.errors import NotFound
from oms.core.transactions import BROKER_ERRORS, DATABASE_ERRORS
from orders.payments import PaymentUnavailable
from orders.services.payments import void_cancelled_order_payment

SWEEPER = Actor.system("sweeper")


@shared_task(name="fulfillment.tasks.orchestrate_order_task")
def orchestrate_order_task(order_id: int, trigger: str = RoutingTrigger.CAPTURE.value) -> None:
    """Orchestrate the order, then release its pending fulfillment orders here, right after the
    commit, instead of one more task each (a broker round trip and a task run less per order).
    A release that cannot be done now goes to release_fulfillment_task, which retries with
    backoff; one refused is recorded on the fulfillment order (as the release task does)."""
    try:
        _outcome, pending = orchestrate_order_for_release(order_id=order_id, trigger=trigger)
    except NotFound as exc:
        if exc.code != "order_not_found":
            raise
        return  # the order's transaction rolled back or it was purged: nothing to do
    for fulfillment_id in pending:
        try:
            release_fulfillment(fulfillment_id=fulfillment_id)
        except ConnectorRefused:
            continue  # terminal: recorded on the fulfillment order for a person to look at
        except (ConnectorUnavailable, *DATABASE_ERRORS):
            # The task's first retry, as if it had run here and failed (retry_backoff).
            release_fulfillment_task.apply_async((fulfillment_id,), countdown=1)


@shared_task(
    name="fulfillment.tasks.release_fulfillment_task",
    autoretry_for=(ConnectorUnavailable, *DATABASE_ERRORS),
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
    autoretry_for=(PaymentUnavailable, *DATABASE_ERRORS),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def capture_shipped_payment_task(order_id: int) -> None:
    capture_shipped_payment(order_id=order_id)


@shared_task(
    name="fulfillment.tasks.void_cancelled_payment_task",
    autoretry_for=(PaymentUnavailable, *DATABASE_ERRORS),
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
    autoretry_for=(ConnectorUnavailable, *DATABASE_ERRORS),
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


# The sweeper runs every 10 s; an item it re-sent is not re-sent again for this long, so a
# backlog (the first message still queued) or a node or payment provider that is down (its task
# retrying with backoff) does not get a new message every sweep. docs/adr/0009-sweeper-grace.md.
RESEND_COOLDOWN_SECONDS = 120


def _not_sent_lately(kind: str, ids: list[int]) -> list[int]:
    """The ids not re-sent in the last RESEND_COOLDOWN_SECONDS (marking them now). Without the
    cache (Redis down) every id is sent: a duplicate is a no-op, a lost order is not."""
    fresh = []
    for item in ids:
        try:
            if cache.add(f"sweeper:{kind}:{item}", 1, timeout=RESEND_COOLDOWN_SECONDS):
                fresh.append(item)
        except BROKER_ERRORS:
            fresh.append(item)
    return fresh


@shared_task(name="fulfillment.tasks.sweep_due_work_task")
def sweep_due_work_task() -> dict[str, int]:
    """Re-send what is due but not done (see fulfillment/services/sweeper.py). Returns what it
    re-sent (or, for pickups, expired) per kind."""
    due = find_due_work(now=timezone.now())
    sent = {
        "orchestrate": _not_sent_lately("orchestrate", due.orchestrate),
        "release": _not_sent_lately("release", due.release),
        "backorder_products": _not_sent_lately("backorders", due.backorder_products),
        "expire": due.expire,
        "capture": _not_sent_lately("capture", due.capture),
        "void": _not_sent_lately("void", due.void),
        "node_requests": _not_sent_lately("node_request", due.node_requests),
    }
    for order_id in sent["orchestrate"]:
        orchestrate_order_task.delay(order_id, RoutingTrigger.SWEEPER.value)
    for fulfillment_id in sent["release"]:
        release_fulfillment_task.delay(fulfillment_id)
    if sent["backorder_products"]:
        allocate_backorders_task.delay(sent["backorder_products"])
    for fulfillment_id in sent["expire"]:
        expire_pickup(fulfillment_id=fulfillment_id, actor=SWEEPER)
    for order_id in sent["capture"]:
        capture_shipped_payment_task.delay(order_id)
    for order_id in sent["void"]:
        void_cancelled_payment_task.delay(order_id)
    for request_id in sent["node_requests"]:
        send_node_request_task.delay(request_id)
    for order_id in due.unpaid:
        cancel_unpaid_order(order_id=order_id)
    return {kind: len(ids) for kind, ids in sent.items()} | {"unpaid": len(due.unpaid)}


@shared_task(name="fulfillment.tasks.import_x12_inbox_task")
def import_x12_inbox_task() -> dict[str, int]:
    """Apply the X12 files waiting in OMS_X12_INBOX_DIR: 945s, and 944s through the handler
    returns registers (fulfillment/x12/inbox.py, sets.py)."""
    results = import_x12_inbox(min_age_seconds=INBOX_SETTLE_SECONDS)
    return {
        "files": len(results),
        "applied": sum(r.applied for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "errors": sum(len(r.errors) for r in results),
    }
