"""Merge the order search's trigram indexes' pending lists (ops migration 0017, ADR 0028).

The indexes append new and changed rows' trigrams to a pending list, which every search reads
whole; merging a batch costs a fraction of writing each row into the index. The beat task
(ops.tasks.flush_search_indexes_task, every 5 seconds) calls `flush_pending_lists()`, so the list
stays a few seconds long and no insert ever finds it over its limit and merges it inline.
"""

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


@dataclass
class FlushReport:
    """Pages each index's pending list held (merged into the index and freed), by index name;
    `failed` names the indexes PostgreSQL refused to flush (the role does not own them)."""

    pages: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def total_pages(self) -> int:
        return sum(self.pages.values())


def flush_pending_lists() -> FlushReport:
    """Merge the pending list of every GIN index in the schema that keeps one into the index
    (the eight search indexes of ops migrations 0007 and 0017, and any GIN index added with a
    list later), one index at a time.

    Concurrent inserts keep appending while an index is merged (PostgreSQL merges one list at a
    time and an insert never waits for it). Nothing to do on SQLite, which has no such index.
    """
    report = FlushReport()
    if connection.vendor != "postgresql":
        return report
    with connection.cursor() as cursor:
        # fastupdate is on unless an index says otherwise (PostgreSQL's default).
        cursor.execute(
            """
            SELECT c.relname, c.oid FROM pg_class c JOIN pg_am am ON am.oid = c.relam
            WHERE c.relkind = 'i' AND am.amname = 'gin'
              AND c.relnamespace = current_schema()::regnamespace
              AND NOT coalesce('fastupdate=off' = ANY(c.reloptions), false)
            """
        )
        indexes = sorted(cursor.fetchall())
        for name, oid in indexes:
            try:
                # Its own statement and, in autocommit, its own transaction: a failure (the
                # index's owner is another role) leaves the others to flush.
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [oid])
            except DatabaseError as exc:
                logger.warning("search index %s not flushed: %s", name, exc)
                report.failed.append(name)
                continue
            report.pages[name] = cursor.fetchone()[0]
    return report
