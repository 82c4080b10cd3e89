"""What customer service does to an order besides holds and cancellations: add a note, ask for
the confirmation to be sent again. Each locks the order and records its event; neither changes
the order's state."""

from django.db import transaction
from django.utils import timezone

from oms.core.actors import Actor
from oms.core.errors import FieldError, InvalidInput
from oms.events.services import record_event
from orders.events import ORDER_CONFIRMATION_RESENT, ORDER_NOTE_ADDED
from orders.locks import lock_order
from orders.models import Order

MAX_NOTE = 1_000


def add_order_note(*, order_id: int, text: str, actor: Actor) -> Order:
    """Append a dated, signed line to the order's notes. The event says who and how long, not
    what: notes may hold personal data, and events fan out to webhook subscribers."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_NOTE:
        detail = f"A note has 1 to {MAX_NOTE} characters."
        raise InvalidInput([FieldError("note_invalid", detail, "text")], detail=detail)
    with transaction.atomic():
        order = lock_order(order_id)
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {actor.label}] {text}"
        order.notes = f"{order.notes}\n{line}" if order.notes else line
        order.save(update_fields=["notes", "updated_at"])
        record_event(
            stream=order.stream,
            type=ORDER_NOTE_ADDED,
            actor=actor,
            payload={"by": actor.label, "chars": len(text)},
            subject=order,
        )
    return order


def resend_confirmation(*, order_id: int, actor: Actor, reason: str = "") -> Order:
    """Record `order.confirmation_resent`; the channel's subscriber (the storefront) sends the
    e-mail, as it did for `order.created`. Asking twice sends twice: it is what was asked."""
    with transaction.atomic():
        order = lock_order(order_id)
        record_event(
            stream=order.stream,
            type=ORDER_CONFIRMATION_RESENT,
            actor=actor,
            payload={"number": order.number, "reason": reason[:200]},
            subject=order,
        )
    return order
