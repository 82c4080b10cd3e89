"""Handing orders to the legacy system, through an outbox (`LegacyHandoff`).

- `queue_handoff()` runs in the transaction that decided the legacy system owns the order
  (capture of a non-oms order, or a rollback's hand-back): it renders the order in the legacy
  format (the configured orders mapping run backwards, migration/mapping/reverse.py), writes the
  outbox row and `order.handoff_queued`, and sends on commit.
- `send_handoff()` delivers outside any transaction (POST to OMS_LEGACY_HANDOFF_URL, or a file
  in OMS_LEGACY_HANDOFF_DIR), then records the outcome under the order lock: `order.handoff_sent`,
  or a retry after 1, 4, 16, 64 minutes, and after OMS_LEGACY_HANDOFF_MAX_ATTEMPTS attempts the
  dead letter: `order.handoff_dead` and an integration_failed case. Idempotent: only a pending,
  due row is sent; a sent or dead one is left alone.
- `send_due_handoffs()` (beat) re-sends due rows whose task was lost or that wait for a retry.
- `hand_back_channel()` is the rollback's second half: every oms order of the channel that no
  node has yet is handed back (fulfillment/services/handback.py), then queued here.
"""

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment.services.handback import HANDABLE_STATUSES, hand_back_order
from migration.mapping.reverse import render_orders_csv
from migration.mapping.schema import load_mapping
from migration.models import HandoffStatus, LegacyHandoff
from migration.services.jobs import resolve_mapping_path
from migration.tasks import send_handoff_task
from oms.core.actors import Actor
from oms.core.transactions import enqueue_on_commit
from oms.events.services import record_event
from ops.services.cases import raise_exception_case
from orders.events import ORDER_HANDOFF_DEAD, ORDER_HANDOFF_QUEUED, ORDER_HANDOFF_SENT
from orders.locks import lock_order
from orders.models import Order
from orders.ownership import OrderOwner

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("legacy handoff")
TIMEOUT_SECONDS = 10
BACKOFF = timedelta(minutes=1)  # × 4^(attempts - 1): 1, 4, 16, 64 minutes


class HandoffFailed(Exception):
    """The legacy system did not take the order (network, 5xx, refused)."""


def legacy_record(order: Order) -> dict[str, Any]:
    """The order as the canonical record an orders mapping reads (docs/migration.md)."""
    return {
        "source_id": order.external_id,
        "placed_at": order.placed_at,
        "currency": order.currency,
        "status": "open",
        "payment_method": order.payment_method,
        "customer_name": order.customer_name,
        "customer_email": order.customer_email,
        "ship_name": order.ship_name,
        "ship_line1": order.ship_line1,
        "ship_city": order.ship_city,
        "ship_region": order.ship_region,
        "ship_postal_code": order.ship_postal_code,
        "ship_country": order.ship_country,
        "shipping_total": order.shipping_total,
        "grand_total": order.grand_total,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "tax": line.tax,
            }
            for line in order.lines.order_by("line_number")
        ],
    }


def queue_handoff(*, order: Order, reason: str, actor: Actor) -> LegacyHandoff | None:
    """In the caller's transaction (the order row is the caller's: just inserted, or locked).
    None when the order was queued before."""
    if LegacyHandoff.objects.filter(order_id=order.pk).exists():
        return None
    mapping = load_mapping(resolve_mapping_path(settings.OMS_LEGACY_HANDOFF_MAPPING))
    content = render_orders_csv(mapping, [legacy_record(order)])
    handoff = LegacyHandoff(
        order=order,
        reason=reason,
        payload={
            "mapping": mapping.name,
            "format": mapping.format.type,
            "order": order.number,
            "external_id": order.external_id,
            "content": content,
        },
        next_attempt_at=timezone.now(),
    )
    handoff.save(force_insert=True)
    record_event(
        stream=order.stream,
        type=ORDER_HANDOFF_QUEUED,
        actor=actor,
        payload={"order": order.number, "reason": reason, "mapping": mapping.name},
    )
    # A lost message costs a minute: send_due_handoffs_task (beat) finds the row.
    enqueue_on_commit(send_handoff_task, handoff.pk)
    return handoff


def _deliver(payload: dict[str, Any]) -> None:
    """Outside any transaction. Raises HandoffFailed."""
    body = payload["content"].encode()
    if settings.OMS_LEGACY_HANDOFF_URL:
        request = urllib.request.Request(  # noqa: S310 - the configured legacy endpoint
            settings.OMS_LEGACY_HANDOFF_URL,
            data=body,
            method="POST",
            headers={
                "Content-Type": "text/csv",
                "X-Oms-Order": payload["order"],
                "X-Oms-Mapping": payload["mapping"],
                "Idempotency-Key": f"oms-handoff-{payload['order']}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            raise HandoffFailed(f"HTTP {error.code} from the legacy endpoint") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise HandoffFailed(f"legacy endpoint unreachable: {error}") from error
        return
    directory = settings.OMS_LEGACY_HANDOFF_DIR
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{payload['order']}.csv"
        partial = target.with_suffix(".csv.part")  # renamed when whole: a reader never sees half
        partial.write_bytes(body)
        partial.replace(target)
    except OSError as error:
        raise HandoffFailed(f"cannot write {directory}: {error}") from error


@dataclass(frozen=True)
class SendResult:
    status: str
    attempts: int
    error: str = ""


def send_handoff(*, handoff_id: int, now: datetime | None = None) -> SendResult | None:
    """Send one due, pending handoff. None when there is nothing to do."""
    now = now or timezone.now()
    handoff = LegacyHandoff.objects.filter(
        pk=handoff_id, status=HandoffStatus.PENDING, next_attempt_at__lte=now
    ).first()
    if handoff is None:
        return None
    error = ""
    try:
        _deliver(handoff.payload)
    except HandoffFailed as failure:
        error = str(failure)
    with transaction.atomic():
        order = lock_order(handoff.order_id)
        handoff = LegacyHandoff.objects.select_for_update(of=("self",)).get(pk=handoff_id)
        if handoff.status != HandoffStatus.PENDING:
            return None  # another worker finished it meanwhile
        handoff.attempts += 1
        if not error:
            handoff.mark_sent(at=timezone.now())
            handoff.save(
                update_fields=["status", "attempts", "sent_at", "last_error", "updated_at"]
            )
            record_event(
                stream=order.stream,
                type=ORDER_HANDOFF_SENT,
                actor=SYSTEM,
                payload={"order": order.number, "attempts": handoff.attempts},
            )
        elif handoff.attempts >= settings.OMS_LEGACY_HANDOFF_MAX_ATTEMPTS:
            handoff.mark_dead(error=error)
            handoff.save(update_fields=["status", "attempts", "last_error", "updated_at"])
            record_event(
                stream=order.stream,
                type=ORDER_HANDOFF_DEAD,
                actor=SYSTEM,
                payload={"order": order.number, "attempts": handoff.attempts, "error": error},
            )
            raise_exception_case(
                kind="integration_failed",
                order=order,
                summary=f"Handing {order.number} to the legacy system failed "
                f"{handoff.attempts} times: {error[:200]}",
                details={"legacy_handoff": handoff.pk, "error": error},
                actor=SYSTEM,
            )
        else:
            handoff.last_error = error[:500]
            handoff.next_attempt_at = timezone.now() + BACKOFF * 4 ** (handoff.attempts - 1)
            handoff.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
    return SendResult(status=handoff.status, attempts=handoff.attempts, error=error)


def send_due_handoffs(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    now = now or timezone.now()
    due = list(
        LegacyHandoff.objects.filter(status=HandoffStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    counts = {"sent": 0, "retrying": 0, "dead": 0}
    for handoff_id in due:
        result = send_handoff(handoff_id=handoff_id, now=now)
        if result is None:
            continue
        key = {"sent": "sent", "dead": "dead"}.get(result.status, "retrying")
        counts[key] += 1
    return counts


def revive_handoff(*, handoff_id: int, actor: Actor) -> LegacyHandoff:
    """A person fixed the cause: send a dead handoff again, from its first attempt."""
    with transaction.atomic():
        handoff = LegacyHandoff.objects.select_for_update(of=("self",)).get(pk=handoff_id)
        if handoff.status == HandoffStatus.DEAD:
            handoff.revive(at=timezone.now())
            handoff.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    return handoff


@dataclass(frozen=True)
class HandBack:
    handed_back: list[str]  # order numbers
    kept: list[str]  # at a node already: they finish in oms


def hand_back_channel(*, channel_id: int, actor: Actor = SYSTEM) -> HandBack:
    """Every open oms order of the channel: handed back when no node has it, else kept."""
    open_oms = list(
        Order.objects.filter(channel_id=channel_id, owner=OrderOwner.OMS)
        .exclude(status__in=["shipped", "delivered", "completed", "cancelled", "handed_back"])
        .order_by("id")
        .values_list("id", "number", "status")
    )
    handed: list[str] = []
    kept: list[str] = []
    for order_id, number, status in open_oms:
        done = status in HANDABLE_STATUSES and hand_back_order(
            order_id=order_id, actor=actor, reason="rollback"
        )
        (handed if done else kept).append(number)
    return HandBack(handed_back=handed, kept=kept)
