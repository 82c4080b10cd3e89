"""What leaves the system in a webhook body: the event's payload, masked (redaction.py), plus
what the app owning a type adds at send time.

A port (docs/adr/0005-layers.md): webhooks cannot import fulfillment, so an owner registers
`register_addition(type, fn)` when it loads; `fn(event)` returns keys to add to that type's
outgoing payload. Fulfillment adds the pickup code to `fulfillment.ready_for_pickup` from the
fulfillment order while the parcel is still waiting: the code is in no event, message or log.
"""

from collections.abc import Callable
from typing import Any

from oms.events.models import Event
from oms.events.redaction import Masker

Addition = Callable[[Event], dict[str, Any]]

_ADDITIONS: dict[str, list[Addition]] = {}


def register_addition(event_type: str, addition: Addition) -> None:
    additions = _ADDITIONS.setdefault(event_type, [])
    if addition not in additions:
        additions.append(addition)


def outbound_payload(event: Event, masker: Masker | None = None) -> Any:
    masker = masker if masker is not None else Masker.for_streams([event.stream])
    payload = masker.payload(event.stream, event.payload)
    for addition in _ADDITIONS.get(event.type, ()):
        if isinstance(payload, dict):
            payload = {**payload, **addition(event)}
    return payload
