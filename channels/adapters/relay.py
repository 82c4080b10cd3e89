"""Signing for platforms whose events reach us through a relay of the retailer's (an Adobe
Commerce webhook or I/O action for Magento, a commercetools Subscription forwarder or Connect
app, an EventBridge/SQS-to-HTTPS forwarder for Amazon notifications): the relay signs the raw
body with the channel's webhook secret, base64 HMAC-SHA256 in `X-Oms-Signature`, and names the
delivery in `X-Oms-Delivery-Id` (else the body's SHA-256 is its id)."""

from channels.adapters.common import body_digest, hmac_b64, same


def verify(raw: bytes, headers: dict[str, str], secret: str) -> bool:
    return same(headers.get("x-oms-signature"), hmac_b64(secret, raw))


def delivery_id(raw: bytes, headers: dict[str, str]) -> str:
    return headers.get("x-oms-delivery-id") or body_digest(raw)
