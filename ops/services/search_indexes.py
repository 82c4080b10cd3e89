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

# ops migrations 0007 (created), 0016 and 0017 (storage parameters).
SEARCH_INDEXES = (
    "ops_trgm_order_number",
    "ops_trgm_order_external_id",
    "ops_trgm_order_email",
    "ops_trgm_order_name",
    "ops_trgm_order_phone",
    "ops_trgm_line_sku",
    "ops_trgm_fo_number",
    "ops_trgm_shipment_tracking",
)


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
    """Merge every search index's pending list into the index, one index at a time.

    Concurrent inserts keep appending while an index is merged (PostgreSQL merges one list at a
    time and an insert never waits for it). Nothing to do on SQLite, which has no such index.
    """
    report = FlushReport()
    if connection.vendor != "postgresql":
        return report
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, oid FROM pg_class WHERE relkind = 'i' AND relname = ANY(%s)",
            [list(SEARCH_INDEXES)],
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
