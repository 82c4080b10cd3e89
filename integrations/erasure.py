"""Erasing a customer's personal data from the transport logs (docs/security.md, "Personal
data"): inbound messages and the response bodies kept from webhook attempts.

These are operational logs, not the event history: they are redacted in place (each erased
value replaced wherever it occurs in the payload, result and error text). Webhook deliveries
store no body (it is built from the event at each send, masked: oms/events/outbound.py), so for
them only the endpoint's kept responses are redacted.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from integrations.models import InboundMessage, WebhookAttempt
from oms.events.redaction import scrub

MIN_LENGTH = 3  # shorter values would match too much


@dataclass
class LogErasure:
    inbound_messages: int = 0
    webhook_responses: int = 0


def _replace(text: str, values: dict[str, str]) -> str:
    return scrub(text, values, MIN_LENGTH)


def _redact(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, values) for v in value]
    if isinstance(value, str):
        return _replace(value, values)
    return value


def _contains(values: dict[str, str], *texts: str) -> bool:
    return any(len(v) >= MIN_LENGTH and v.lower() in t.lower() for v in values for t in texts if t)


def erase_from_logs(
    *,
    subjects: Iterable[str],
    event_ids: Iterable[int],
    values: dict[str, str],
    dry_run: bool = False,
) -> LogErasure:
    """Replace `values` ({value: replacement}) in the inbound messages about `subjects` (order
    and fulfillment numbers, tracking numbers) or containing one of the values, and in the kept
    responses of webhook deliveries of `event_ids`. Runs in the caller's transaction."""
    result = LogErasure()
    values = {v: r for v, r in values.items() if len(v.strip()) >= MIN_LENGTH}
    if not values:
        return result
    wanted = Q(subject__in=list(subjects))
    for value in values:
        wanted |= Q(payload__icontains=value) | Q(error__icontains=value)
    for message in InboundMessage.objects.select_for_update(of=("self",)).filter(wanted):
        texts = (json.dumps(message.payload, cls=DjangoJSONEncoder), message.error)
        texts += (json.dumps(message.result, cls=DjangoJSONEncoder),)
        if not _contains(values, *texts):
            continue
        result.inbound_messages += 1
        if not dry_run:
            message.payload = _redact(message.payload, values)
            message.result = _redact(message.result, values)
            message.error = _replace(message.error, values)
            message.save(update_fields=["payload", "result", "error"])
    attempts = WebhookAttempt.objects.filter(delivery__event_id__in=list(event_ids)).exclude(
        response_body=""
    )
    for attempt in attempts.select_for_update(of=("self",)):
        if not _contains(values, attempt.response_body, attempt.error):
            continue
        result.webhook_responses += 1
        if not dry_run:
            attempt.response_body = _replace(attempt.response_body, values)[:1024]
            attempt.error = _replace(attempt.error, values)[:500]
            attempt.save(update_fields=["response_body", "error"])
    return result
