"""Pieces several adapters share: HMAC verification of a raw body, the refund parent lookup."""

import base64
import hashlib
import hmac


def hmac_b64(secret: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def hmac_hex(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.strip().encode(), expected.encode())


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
