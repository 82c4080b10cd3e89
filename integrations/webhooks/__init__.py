"""Webhooks out: subscriptions, outbox relay, signed delivery, retries (docs/webhooks.md)."""
