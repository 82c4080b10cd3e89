from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def unique_or_none(queryset: "models.QuerySet[M]") -> M | None:
    """The row a unique-key filter matches, or None.

    Unlike `.first()`, this drops the model's default ordering: a lookup by a unique key must
    use that key's index, and an inherited `ORDER BY placed_at DESC` can lead PostgreSQL (with
    stale statistics) to walk a far larger index instead.
    """
    return next(iter(queryset.order_by()[:1]), None)
