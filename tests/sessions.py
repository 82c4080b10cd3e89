"""A PostgreSQL session of its own beside Django's, as another web process or an operator's
shell has: to end Django's session (pg_terminate_backend) or change rows behind its back."""

from typing import Any

import psycopg


def other_session(settings: dict[str, Any]) -> psycopg.Connection:
    """An autocommit connection to the database of a Django connection's `settings_dict`."""
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )
