"""The sweep an outbox runs on its beat: the ids of due pending rows, oldest first, each sent
once by the outbox's own `send`, counted by the status it ended in. Sending stays the outbox's:
it locks its row, so a row the sweep and a task both reach is sent once."""

from collections.abc import Callable

from django.db.models import QuerySet


def sweep_due(
    due: QuerySet, send: Callable[[int], str | None], *, limit: int = 200
) -> dict[str, int]:
    """`due`: the outbox's pending rows whose next attempt is due. Returns {"due": n, <status>:
    count, ...}; a send that returns None (the row moved on meanwhile) is not counted."""
    ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    counts: dict[str, int] = {"due": len(ids)}
    for row_id in ids:
        status = send(row_id)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts
