"""Helpers that enforce the transaction rules of docs/architecture.md."""

from django.db import connection


def require_atomic(what: str) -> None:
    """Refuse to run `what` outside a transaction (locks and events are meaningless there)."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{what} must run inside transaction.atomic()")
