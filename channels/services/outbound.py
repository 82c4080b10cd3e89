"""Calls back to the platforms: the outbox of `OutboundCall` rows and its sender.

`queue_call()` runs in the transaction of the oms event it answers (channels/handlers.py), so a
call exists exactly when its event committed; (connection, event, action) is unique. Sending
follows webhooks/sending.py:

    claim      short transaction, SKIP LOCKED: attempts + 1, next attempt a lease ahead
    send       no transaction: the adapter's HTTP calls through the SSRF-checked client
    record     short transaction: sent, or the next attempt after backoff (30 s · 2^n, ±20 %,
               capped at 6 h), or dead after OMS_CHANNELS_MAX_ATTEMPTS (or a 4xx that a retry
               cannot fix) with `channel.call_dead`, which opens an integration_failed case

A sender that dies mid-call leaves the row due again when the lease runs out, so a call can
reach the platform more than once only when its answer was lost (at least once). A person sends
a dead call again with `retry_call()` (the admin's "Send again" action) after fixing the cause.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels.adapters.base import CallFailed, adapter_for
from channels.events import (
    CHANNEL_CALL_DEAD,
    CHANNEL_CALL_RETRIED,
    CHANNEL_CALL_SENT,
    stream_for_outbound_call,
)
from channels.http import Client
from channels.models import ChannelConnection, OutboundCall, OutboundStatus
from oms.core.actors import Actor
from oms.core.errors import DomainError, NotFound
from oms.core.outbox import sweep_due
from oms.core.transactions import enqueue_on_commit
from oms.events.models import Event
from oms.events.services import record_event
from orders.models import Order
from webhooks.sending import backoff

logger = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


def queue_call(
    *,
    connection: ChannelConnection,
    order: Order,
    action: str,
    payload: dict[str, Any],
    event: Event | None = None,
) -> OutboundCall | None:
    """Add a call to the outbox in the caller's transaction and send it on commit. None when
    the platform has nothing to do with this action or the channel sends nothing back."""
    adapter = adapter_for(connection.platform)
    if adapter is None or action not in adapter.actions or not connection.outbound_enabled:
        return None
    now = timezone.now()
    call = OutboundCall.objects.create(
        connection=connection,
        order=order,
        event=event,
        action=action,
        payload={**payload, "external_id": order.external_id},
        created_at=now,
        next_attempt_at=now,
    )
    _send_on_commit(call.pk)
    return call


def platform_refunds(order: Order) -> bool:
    """Will the order's platform pay a refund oms records (orders/payments/held.py)? Its
    adapter refunds through the platform's gateway and the channel sends updates out."""
    connection = ChannelConnection.objects.filter(channel_id=order.channel_id).first()
    adapter = adapter_for(connection.platform) if connection is not None else None
    return (
        connection is not None
        and adapter is not None
        and adapter.refunds_held_payments
        and "refund" in adapter.actions
        and connection.outbound_enabled
    )


def _send_on_commit(call_id: int) -> None:
    # Seam: channels.tasks imports this module, so the task is imported where used.
    from channels.tasks import send_call_task  # noqa: PLC0415

    enqueue_on_commit(send_call_task, call_id)


@dataclass(frozen=True)
class Claimed:
    call: OutboundCall
    connection: ChannelConnection


def _claim(call_id: int) -> Claimed | None:
    now = timezone.now()
    with transaction.atomic():
        call = (
            OutboundCall.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=call_id, status=OutboundStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if call is None:
            return None
        call.attempts += 1
        call.next_attempt_at = now + LEASE
        call.save(update_fields=["attempts", "next_attempt_at"])
    connection = ChannelConnection.objects.select_related("channel").get(pk=call.connection_id)
    return Claimed(call, connection)


def send_call(call_id: int) -> str | None:
    """One attempt at a due pending call; the resulting status (None: not due or taken)."""
    claimed = _claim(call_id)
    if claimed is None:
        return None
    call, connection = claimed.call, claimed.connection
    adapter = adapter_for(connection.platform)
    client = Client(base_url=connection.base_url)
    try:
        if adapter is None:
            raise CallFailed(f"no adapter for {connection.platform}", retryable=False)
        adapter.authenticate(client, connection)
        call.connection = connection
        result = adapter.send(client, call)
    except CallFailed as exc:
        return _finish(call.pk, client, error=exc)
    return _finish(call.pk, client, result=result)


def _finish(
    call_id: int,
    client: Client,
    *,
    result: dict[str, Any] | None = None,
    error: CallFailed | None = None,
) -> str:
    now = timezone.now()
    with transaction.atomic():
        call = OutboundCall.objects.select_for_update(of=("self",)).get(pk=call_id)
        if call.status != OutboundStatus.PENDING:
            return call.status  # another sender finished it (its lease ran out meanwhile)
        call.response = {"requests": client.log[-10:], **(result or {})}
        if error is None:
            call.delivered(at=now, status_code=client.log[-1]["status"] if client.log else None)
            ChannelConnection.objects.filter(pk=call.connection_id).update(last_out_at=now)
        else:
            call.last_status_code = error.status
            call.last_error = error.detail[:500]
            if not error.retryable or call.attempts >= settings.OMS_CHANNELS_MAX_ATTEMPTS:
                call.give_up()
            else:
                call.next_attempt_at = now + timedelta(seconds=backoff(call.attempts))
        call.save()
        if call.status == OutboundStatus.SENT:
            _record(call, CHANNEL_CALL_SENT, SYSTEM, status_code=call.last_status_code)
        elif call.status == OutboundStatus.DEAD:
            _record(
                call,
                CHANNEL_CALL_DEAD,
                SYSTEM,
                attempts=call.attempts,
                status_code=call.last_status_code,
                error=call.last_error,
            )
    if error is not None:
        logger.info(
            "channel call failed",
            extra={
                "call": call_id,
                "action": call.action,
                "status": error.status,
                "dead": call.status == OutboundStatus.DEAD,
            },
        )
    return call.status


SYSTEM = Actor.system("channels")


def _record(call: OutboundCall, type: str, actor: Actor, **extra: Any) -> Event:
    """An event on the call's own stream, in the caller's transaction."""
    order = Order.objects.select_related("channel").get(pk=call.order_id)
    call.order = order
    return record_event(
        stream=stream_for_outbound_call(call.pk),
        type=type,
        actor=actor,
        payload={
            "call_id": call.pk,
            "channel": order.channel.code,
            "order": order.number,
            "action": call.action,
            **extra,
        },
        subject=call,
    )


class CallNotRetryable(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="call_not_retryable", detail=detail, http_status=409)


def retry_call(*, call_id: int, actor: Actor) -> OutboundCall:
    """A person sends a dead call again (after fixing the endpoint, credentials or data): it
    is pending and due now, with a fresh attempt budget."""
    with transaction.atomic():
        call = OutboundCall.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
        if call is None:
            raise NotFound(f"No outbound call {call_id}.", code="call_not_found")
        if call.status != OutboundStatus.DEAD:
            raise CallNotRetryable(
                f"Call {call_id} is {call.status}; only dead calls are sent again."
            )
        call.retry(at=timezone.now())
        call.save(update_fields=["status", "attempts", "next_attempt_at"])
        _record(call, CHANNEL_CALL_RETRIED, actor)
        _send_on_commit(call_id)
    return call


def send_due_calls(*, limit: int = 200) -> dict[str, int]:
    """The sweeper (beat): every due pending call, one attempt each."""
    due = OutboundCall.objects.filter(
        status=OutboundStatus.PENDING, next_attempt_at__lte=timezone.now()
    )
    return sweep_due(due, send_call, limit=limit)
