"""Pieces several adapters share: HMAC verification of a raw body, the refund parent lookup."""

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels.models import OutboundCall


def hmac_b64(secret: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def hmac_hex(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.strip().encode(), expected.encode())


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def refund_mark(call: "OutboundCall") -> str:
    """The oms refund a platform refund answers: the order and its payment transaction (the
    outbox row for a refund queued without one). Written on the platform's refund and looked
    for before making one, so a retry after a lost answer refunds nothing twice."""
    payload = call.payload
    transaction = payload.get("transaction") or f"call-{call.pk}"
    return f"oms:{payload.get('order') or call.order_id}:{transaction}"
