"""Processing an inbound message again: automatic retries, then dead, then a person.

Each kind of inbound message that can be applied again from its stored payload registers a
handler when its app is ready (`register_handler("x12.945", reprocess_advice, retry=True)`).
A handler applies the stored message through the same service as the first time, with the same
(source, message_id), so `receive_message()` finds the row and marks it processed with the
effect, or the service refuses and the message keeps its new error.

- `retry_due_messages()` (Celery beat, every minute) re-processes failed messages whose
  `next_attempt_at` has come: only kinds registered with `retry=True`, messages nobody else
  will send again. After OMS_INBOUND_MAX_ATTEMPTS attempts the message is dead and an
  `integration_failed` exception case is raised about it (services.record_failure).
- `reprocess_message()` is the person's way (the message admin, the exception console's
  "re-process message" remedy): any failed or dead message whose kind has a handler.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import InboundMessage, InboundStatus
from integrations.services import AfterFailure, finish_message, record_failure
from oms.core.actors import Actor
from oms.core.errors import DomainError, NotFound

logger = logging.getLogger(__name__)

Apply = Callable[[InboundMessage, Actor], dict[str, Any]]
SYSTEM = Actor.system("inbound-retry")
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Handler:
    kind: str
    apply: Apply
    retry: bool  # retried automatically: nobody else will send the message again


_handlers: dict[str, Handler] = {}


def register_handler(kind: str, apply: Apply, *, retry: bool = False) -> None:
    _handlers[kind] = Handler(kind=kind, apply=apply, retry=retry)


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def can_reprocess(message: InboundMessage) -> bool:
    return message.status != InboundStatus.PROCESSED and message.kind in _handlers


class ReprocessRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=409)


def reprocess_message(*, message_id: int, actor: Actor) -> InboundMessage:
    """Apply a failed or dead message again. Answers the message (processed), or raises the
    service's refusal after recording it on the message (its error, one more attempt)."""
    message = InboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        raise NotFound(f"No inbound message {message_id}.", code="message_not_found")
    if message.status == InboundStatus.PROCESSED:
        raise ReprocessRefused(
            "message_already_processed",
            f"Message {message.message_id} from {message.source} is already processed.",
        )
    handler = handler_for(message.kind)
    if handler is None:
        raise ReprocessRefused(
            "message_not_reprocessable",
            f"{message.kind} messages cannot be applied again from the log; ask the sender "
            "to send it again.",
        )
    try:
        result = handler.apply(message, actor)
    except DomainError as exc:
        record_failure(
            source=message.source,
            message_id=message.message_id,
            kind=message.kind,
            payload=message.payload,
            error=exc,
            subject=message.subject,
            then=AfterFailure.RETRY if handler.retry else AfterFailure.ANSWERED,
        )
        logger.info(
            "inbound message refused again",
            extra={"inbound_message": message.pk, "kind": message.kind, "code": exc.code},
        )
        raise
    message.refresh_from_db()
    if message.status != InboundStatus.PROCESSED:
        # The handler applied it without going through receive_message (e.g. a whole file
        # imported again under new message ids): this row is settled by that.
        with transaction.atomic():
            locked = InboundMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
            if locked.status != InboundStatus.PROCESSED:
                finish_message(locked, result=result)
        message.refresh_from_db()
    logger.info(
        "inbound message re-processed",
        extra={"inbound_message": message.pk, "kind": message.kind, "actor": actor.label},
    )
    return message


def retry_due_messages(*, limit: int = 100) -> dict[str, int]:
    """Re-process failed messages whose next attempt is due (kinds registered with retry=True).
    Concurrent runs share the work: each message is claimed by moving its next attempt on
    under SKIP LOCKED, so a run that dies leaves it due again later, never lost."""
    kinds = [kind for kind, handler in _handlers.items() if handler.retry]
    now = timezone.now()
    with transaction.atomic():
        due = list(
            InboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=InboundStatus.FAILED, next_attempt_at__lte=now, kind__in=kinds)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        # Claimed: a crash from here on retries them after the lease, not at once.
        InboundMessage.objects.filter(pk__in=due).update(next_attempt_at=now + CLAIM_LEASE)
    counts = {"due": len(due), "processed": 0, "failed": 0, "dead": 0}
    for pk in due:
        try:
            reprocess_message(message_id=pk, actor=SYSTEM)
            counts["processed"] += 1
        except DomainError:
            status = InboundMessage.objects.filter(pk=pk).values_list("status", flat=True).get()
            counts["dead" if status == InboundStatus.DEAD else "failed"] += 1
    return counts
