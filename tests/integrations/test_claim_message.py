"""claim_message: the inbound log row of a message a service (inventory feeds) applies now."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from integrations.models import InboundMessage
from integrations.services import claim_message, finish_message

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def claim(payload: dict, digest: str = "a" * 64) -> InboundMessage | None:
    with transaction.atomic():
        return claim_message(
            source="api:dc-east",
            message_id="adj-1",
            kind="inventory.adjustment",
            subject="dc-east",
            payload=payload,
            fingerprint=digest,
        )


def test_a_new_message_gets_a_row_being_received():
    message = claim({"lines": [1]})

    assert (message.status, message.attempts, message.subject, message.fingerprint) == (
        "received",
        1,
        "dc-east",
        "a" * 64,
    )


def test_a_kept_refusal_is_taken_over_with_the_content_applied_now():
    kept = InboundMessage.objects.create(
        source="api:dc-east",
        message_id="adj-1",
        kind="inventory.adjustment",
        subject="dc-east",
        payload={"lines": ["first draft"]},
        fingerprint="0" * 64,
        status="failed",
        attempts=2,
        error_code="adjustment_refused",
        received_at=T0,
    )

    message = claim({"lines": ["corrected"]}, digest="b" * 64)
    finish_message(message, result={"status": "applied"})

    kept.refresh_from_db()
    assert message.pk == kept.pk
    assert (kept.status, kept.attempts, kept.error_code, kept.received_at) == (
        "processed",
        3,
        "",
        T0,
    )
    assert (kept.payload, kept.fingerprint) == ({"lines": ["corrected"]}, "b" * 64)


def test_a_processed_message_is_not_claimed_again():
    with transaction.atomic():
        finish_message(claim({"lines": [1]}), result={"status": "applied"})

    assert claim({"lines": [2]}, digest="c" * 64) is None
    assert InboundMessage.objects.get().payload == {"lines": [1]}
