"""Sales channels' facts that are work for a person (channels/events.py).

| event               | case                                                        |
|---------------------|-------------------------------------------------------------|
| channel.call_dead   | integration_failed about the order (a call back to the platform gave up) |

A refused platform order is an `inbound.message_dead` (ops/handlers.py) like any dead message.
"""

from typing import Any

from channels.events import CHANNEL_CALL_DEAD
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from ops.services.cases import raise_exception_case


@on_event(CHANNEL_CALL_DEAD)
def call_dead(event: Event, call: Any) -> None:
    payload = event.payload
    raise_exception_case(
        kind="integration_failed",
        order=call.order,
        summary=f"{payload['action']} to channel {payload['channel']} failed "
        f"{payload['attempts']} times: {payload['error'][:200]}",
        details={
            "channel_call": payload["call_id"],
            "action": payload["action"],
            "status_code": payload["status_code"],
            "error": payload["error"],
        },
        actor=actor_of(event),
    )
