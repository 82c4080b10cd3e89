"""In-transaction event handlers: how a lower layer makes something above it happen.

Imports run only downward (docs/adr/0005-layers.md). When a domain app records a fact that an
app above it must act on (a fraud hold is work for the exception console; a captured order is
work for routing), the upper app registers a handler for the event type when it loads
(`AppConfig.ready()`), and `record_event()` calls it right after writing the event, in the same
transaction. The reaction commits or rolls back with the change it reacts to; a handler that
needs I/O or a task schedules it with `transaction.on_commit`, and a sweeper can re-derive it
from the database.

A handler receives the event and the `subject` the service passed to `record_event()`: the row
the event is about, already locked by the service (an order, a fulfillment order, a node, an
inbound message), so the handler neither re-locks nor re-reads it. Handlers run in registration
order; an exception in one aborts the business transaction, as any error in the unit of work
would. An event recorded without a subject (history brought in by an import, a synthetic event)
is a record only: it triggers no reaction.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any, cast

from oms.core.actors import Actor, ActorKind
from oms.events.models import Event

Handler = Callable[[Event, Any], None]

_HANDLERS: defaultdict[str, list[Handler]] = defaultdict(list)


def on_event(*types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for each event type (idempotent per function)."""
    if not types:
        raise ValueError("on_event() needs at least one event type")

    def decorator(handler: Handler) -> Handler:
        for event_type in types:
            handlers = _HANDLERS[event_type]
            if handler not in handlers:
                handlers.append(handler)
        return handler

    return decorator


def handlers_for(event_type: str) -> tuple[Handler, ...]:
    return tuple(_HANDLERS.get(event_type, ()))


def dispatch(event: Event, subject: Any) -> None:
    """Run the handlers of `event.type` (called by record_event, inside its transaction)."""
    if subject is None:
        return
    for handler in _HANDLERS.get(event.type, ()):
        handler(event, subject)


def actor_of(event: Event) -> Actor:
    """Who caused the event: a handler acts on behalf of the same actor."""
    # actor_kind holds the ActorKind that record_event wrote.
    kind = cast(ActorKind, event.actor_kind)
    return Actor(kind=kind, id=event.actor_id, label=event.actor_label)
