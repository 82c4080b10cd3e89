"""Hand Django objects we already hold to a related manager, so rendering them costs no query."""

from collections.abc import Sequence

from django.db import models


def attach_prefetched(instance: models.Model, **related: Sequence[models.Model]) -> None:
    """Make `instance.<name>.all()` return `objects` without a query, exactly as
    `prefetch_related(name)` would have. Use it for rows created in the same unit of work
    (e.g. an order and the lines just bulk-inserted with it)."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # Django's own prefetch slot, private so undeclared on Model
    for name, objects in related.items():
        # The real related queryset with its cache filled: iterating it costs no query, and a
        # chained .filter()/.get() is a fresh query, exactly as after prefetch_related().
        queryset = getattr(instance, name).all()
        queryset._result_cache = list(objects)
        queryset._prefetch_done = True
        cache[name] = queryset
