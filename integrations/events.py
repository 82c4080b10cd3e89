"""Event types of the integrations app (payloads documented in docs/events.md, "Inbound")."""

from oms.events.registry import register


def stream_for_inbound_message(message_id: int) -> str:
    """A logged inbound message's own stream (it belongs to no order until it is applied)."""
    return f"inbound:{message_id}"


INBOUND_MESSAGE_DEAD = register(
    "inbound.message_dead",
    description="An inbound message failed for good (retries exhausted or unreadable): a person "
    "must fix the cause and re-process it.",
)
