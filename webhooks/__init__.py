"""Webhooks out: subscriptions, outbox relay, signed delivery, retries, replay (docs/webhooks.md).

Above orders (subscriptions are scoped to a channel); the subscription and delivery tables are
the integrations app's (integrations/models.py)."""
