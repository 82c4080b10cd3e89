"""Event types of the channels app (payloads documented in docs/events.md, "Channels")."""

from oms.events.registry import register


def stream_for_outbound_call(call_id: int) -> str:
    """An outbound call's own stream (dead calls raise their case from it)."""
    return f"channel-call:{call_id}"


CHANNEL_CALL_DEAD = register(
    "channel.call_dead",
    description="A call back to a sales platform (fulfillment, tracking, cancel, refund) failed "
    "for good after its retries: a person must fix the cause and send it again.",
)
CHANNEL_CALL_SENT = register(
    "channel.call_sent",
    description="The sales platform took a call back (fulfillment, tracking, cancel, refund).",
)
CHANNEL_CALL_RETRIED = register(
    "channel.call_retried",
    description="A person sent a dead call back to a sales platform again, with a fresh budget "
    "of attempts.",
)
