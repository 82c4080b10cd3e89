"""Receive an inbound message exactly once.

    with transaction.atomic():
        received = receive_message(source=..., message_id=..., kind=..., payload=...)
        if received.duplicate:
            return received.message.result     # acknowledged, no second effect
        ... do the work ...
        finish_message(received.message, result={...})

The message row is written in the same transaction as its effect, so "processed" and the
effect commit together: a crash in between leaves neither, and the sender's retry is processed
normally. A concurrent duplicate waits on the unique index and then sees the first one.
"""

import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.events import INBOUND_MESSAGE_DEAD, stream_for_inbound_message
from integrations.models import InboundMessage, InboundStatus
from oms.core.actors import Actor
from oms.core.correlation import get_correlation_id
from oms.core.errors import DomainError
from oms.core.transactions import require_atomic
from oms.events.services import record_event


class MessageIdReused(DomainError):
    """The id already names another message from this source: another kind (action), another
    subject (target) or another body. `first` is the message the id was first used for; its kind
    and subject are in `extra` (services that know what they mean may say it in their terms)."""

    def __init__(
        self,
        source: str,
        message_id: str,
        *,
        first: InboundMessage | None = None,
        detail: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.source, self.message_id = source, message_id
        self.first_kind = first.kind if first is not None else ""
        self.first_subject = first.subject if first is not None else ""
        used_for = ""
        if first is not None:
            used_for = f" ({first.kind}" + (f" of {first.subject}" if first.subject else "") + ")"
        super().__init__(
            code="message_id_reused",
            detail=detail
            or f"Message {message_id!r} from {source} was already received{used_for} with other "
            "content. Use a new message id for a new message.",
            http_status=409,
            extra=extra
            if extra is not None
            else {
                "message_id": message_id,
                "kind": self.first_kind,
                "subject": self.first_subject,
            },
        )


@dataclass(frozen=True)
class Received:
    message: InboundMessage
    duplicate: bool


# Keys whose values are secrets a sender may put in a message (a node posting a hand-over sends
# the customer's pickup code): logged as a keyed digest, never in clear (docs/security.md,
# "Pickup codes"). The digest keeps "the same body" comparable for deduplication.
SECRET_KEYS = frozenset({"pickup_code"})


def _secret_digest(value: Any) -> str:
    key = settings.SECRET_KEY.encode()
    return "hmac-sha256:" + hmac.new(key, str(value).strip().encode(), "sha256").hexdigest()[:16]


def without_secrets(payload: Any) -> Any:
    """`payload` as the log keeps it: every SECRET_KEYS value replaced by its keyed digest."""
    if isinstance(payload, dict):
        return {
            key: _secret_digest(value)
            if key in SECRET_KEYS and value not in (None, "")
            else without_secrets(value)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [without_secrets(item) for item in payload]
    return payload


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_message(message: InboundMessage, *, kind: str, subject: str, digest: str) -> bool:
    """Is the logged `message` this one? The same id is the same message only with the same
    kind (what it asks: accept, ship, a tracking update...), the same subject (what it is about:
    the fulfillment order, the file) and the same body. Compared column by column, so rows
    logged before the subject and kind counted are judged by the same rule."""
    return (message.kind, message.subject, message.fingerprint) == (kind, subject, digest)


def receive_message(
    *, source: str, message_id: str, kind: str, payload: Any, subject: str = ""
) -> Received:
    """Record the message, or find the earlier one. Raises `message_id_reused` when the same id
    came for another kind, another subject or with another body (`same_message`). Must run
    inside the transaction that applies its effect."""
    require_atomic("receive_message()")
    payload = without_secrets(payload)
    digest = fingerprint(payload)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                source=source,
                message_id=message_id,
                kind=kind,
                subject=subject,
                payload=payload,
                fingerprint=digest,
                attempts=1,
                correlation_id=get_correlation_id() or "",
                received_at=timezone.now(),
            )
        return Received(message=message, duplicate=False)
    except IntegrityError:
        pass
    message = (
        InboundMessage.objects.select_for_update(of=("self",))
        .filter(source=source, message_id=message_id)
        .order_by()
        .get()
    )
    if not same_message(message, kind=kind, subject=subject, digest=digest):
        raise MessageIdReused(source, message_id, first=message)
    if message.status == InboundStatus.PROCESSED:
        return Received(message=message, duplicate=True)
    # Received before but not processed (its work failed): process it again now.
    message.attempts += 1
    message.save(update_fields=["attempts"])
    return Received(message=message, duplicate=False)


def already_processed(*, source: str, message_id: str) -> bool:
    """Was this message processed before? For services whose work starts outside a
    transaction (a carrier call) and must not start again for a repeated message."""
    return InboundMessage.objects.filter(
        source=source, message_id=message_id, status=InboundStatus.PROCESSED
    ).exists()


def finish_message(message: InboundMessage, *, result: dict[str, Any]) -> None:
    message.status = InboundStatus.PROCESSED
    message.result = result
    message.processed_at = timezone.now()
    message.error_code = ""
    message.error = ""
    message.next_attempt_at = None
    message.save(
        update_fields=["status", "result", "processed_at", "error_code", "error", "next_attempt_at"]
    )


def claim_message(
    *, source: str, message_id: str, kind: str, payload: Any, fingerprint: str, subject: str = ""
) -> InboundMessage | None:
    """The row of a message about to be applied in the caller's transaction, for a service that
    deduplicates by its own rules before calling this (inventory feeds: their own content
    fingerprint, and a refused feed may be corrected and sent again under the same id;
    inventory/services/feed_messages.py). Finish it with `finish_message()`.

    A new message gets a row (received, attempt 1). A kept refusal of it (failed or dead) is
    taken over, locked: its content becomes this one and this attempt counts. Returns None when
    the message was processed meanwhile (a concurrent transaction applied it first): the caller
    decides what that means."""
    require_atomic("claim_message()")
    try:
        with transaction.atomic():
            return InboundMessage.objects.create(
                source=source,
                message_id=message_id,
                kind=kind,
                subject=subject,
                payload=payload,
                fingerprint=fingerprint,
                attempts=1,
                correlation_id=get_correlation_id() or "",
                received_at=timezone.now(),
            )
    except IntegrityError:
        pass
    message = (
        InboundMessage.objects.select_for_update(of=("self",))
        .filter(source=source, message_id=message_id)
        .order_by()
        .get()
    )
    if message.status == InboundStatus.PROCESSED:
        return None
    message.kind, message.subject = kind, subject
    message.payload, message.fingerprint = payload, fingerprint
    message.status = InboundStatus.RECEIVED
    message.attempts += 1
    message.save(update_fields=["kind", "subject", "payload", "fingerprint", "status", "attempts"])
    return message


def retry_delay(attempts: int) -> timedelta:
    """Wait before automatic attempt `attempts + 1`: 1, 4, 16, 64, 256 minutes (with the default
    base of 60 s), ±20 % jitter so a burst of failures does not retry in lockstep."""
    seconds = settings.OMS_INBOUND_RETRY_BASE_SECONDS * 4 ** max(attempts - 1, 0)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter only


class AfterFailure(StrEnum):
    """What happens to a refused message next."""

    # The sender was answered with the refusal and owns its retry (node API): it stays failed,
    # for the record and for a person to re-process.
    ANSWERED = "answered"
    # Nobody else will send it again (a 945 in a file): retried automatically with backoff
    # (integrations/inbound.py); after OMS_INBOUND_MAX_ATTEMPTS attempts it is dead and raises
    # an `integration_failed` exception case.
    RETRY = "retry"
    # Trying again cannot help (a file whose envelope is broken): dead and a case at once.
    DEAD = "dead"


def record_failure(
    *,
    source: str,
    message_id: str,
    kind: str,
    payload: Any,
    error: DomainError,
    subject: str = "",
    then: AfterFailure = AfterFailure.ANSWERED,
    latest_content: bool = False,
) -> InboundMessage:
    """Keep a message whose processing was refused (in its own transaction, after the work's
    transaction rolled back), so people can see and re-process it; `then` says what follows.

    `latest_content`: the sender may correct a refused message and send it again under the same
    id (inventory feeds allow it), so the kept payload becomes the one sent last; a person who
    re-processes it applies what the sender meant, not its first draft."""
    payload = without_secrets(payload)
    digest = fingerprint(payload)
    with transaction.atomic():
        message, created = InboundMessage.objects.select_for_update(of=("self",)).get_or_create(
            source=source,
            message_id=message_id,
            defaults={
                "kind": kind,
                "subject": subject,
                "payload": payload,
                "fingerprint": digest,
                "received_at": timezone.now(),
                "correlation_id": get_correlation_id() or "",
                "attempts": 1,
            },
        )
        if message.status == InboundStatus.PROCESSED:
            return message
        if (
            not created
            and not latest_content
            and not same_message(message, kind=kind, subject=subject, digest=digest)
        ):
            # The id names another message (refused before receive_message could say
            # `message_id_reused`): that message's record is not this refusal's.
            return message
        changed = ["status", "error_code", "error", "attempts", "next_attempt_at"]
        if not created:
            # This attempt's own increment rolled back with its work; count it here.
            message.attempts += 1
            if latest_content and message.fingerprint != digest:
                message.kind, message.subject = kind, subject
                message.payload, message.fingerprint = payload, digest
                changed += ["kind", "subject", "payload", "fingerprint"]
        message.error_code = error.code[:60]
        message.error = error.detail
        message.next_attempt_at = None
        was_dead = message.status == InboundStatus.DEAD
        if not was_dead:
            message.status = InboundStatus.FAILED
            if then == AfterFailure.DEAD or (
                then == AfterFailure.RETRY and message.attempts >= settings.OMS_INBOUND_MAX_ATTEMPTS
            ):
                message.status = InboundStatus.DEAD
            elif then == AfterFailure.RETRY:
                message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
        message.save(update_fields=changed)
        if message.status == InboundStatus.DEAD:
            _raise_dead_message_case(message)
    return message


def _raise_dead_message_case(message: InboundMessage) -> None:
    """`inbound.message_dead` on the message's own stream (the caller holds the message row);
    the exception console turns it into an integration_failed case (ops/handlers.py)."""
    record_event(
        stream=stream_for_inbound_message(message.pk),
        type=INBOUND_MESSAGE_DEAD,
        actor=Actor.system("inbound"),
        payload={
            "message_id": message.message_id,
            "source": message.source,
            "kind": message.kind,
            "subject": message.subject,
            "error_code": message.error_code,
            "error": message.error[:500],
            "attempts": message.attempts,
        },
        subject=message,
    )
