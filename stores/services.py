"""Store-screen glue around the fulfillment services.

Every button on the store screens calls one fulfillment service (fulfillment/services/
feedback.py, labels.py) with the associate as actor and a FeedbackMessage whose id is the
form's idempotency token, so two POSTs of the same rendered form (a double tap) have one
effect: the second is recognised by the inbound message log and acknowledged.
"""

from typing import Any

from fulfillment.services.feedback import FeedbackMessage


def store_message(user: Any, token: str, payload: dict[str, Any]) -> FeedbackMessage:
    """The feedback message of one submitted store form: who, which form render, what."""
    return FeedbackMessage(
        source=f"store:{user.get_username()}", message_id=str(token), payload=payload
    )
