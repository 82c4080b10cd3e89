"""The order search's trigram GIN indexes keep a pending list again (fastupdate = on), and a beat
task merges it every 5 seconds (ops.tasks.flush_search_indexes_task; ADR 0028).

With fastupdate off (0016) every INSERT, and every UPDATE that is not HOT (the order's status
change), wrote each of the row's trigrams into each index: 0.45 ms of PostgreSQL CPU per order row
with the five order indexes, 0.05 ms per line for the SKU's. Appended to a pending list and merged
in a batch, the same rows cost 0.06 ms to append and 0.02 ms to merge (5,000 orders of the bench's
database, docs/performance.md "The search indexes' pending list").

0016 turned the list off because the insert that found it over gin_pending_list_limit merged it
inline (67-120 ms once per 7,600 orders). The beat task merges it long before: at 300 orders/s a
5-second list holds 1,500 orders, a fifth of the 4 MB limit set here (PostgreSQL's default, made
explicit on each index). Without beat, autovacuum or, at the limit, one insert merges it, as
before 0016.
"""

from importlib import import_module

from django.db import migrations

# The indexes of ops 0007 (absent where pg_trgm could not be created: IF EXISTS), as 0016 names
# them.
TRIGRAM_INDEXES = import_module("ops.migrations.0016_trigram_indexes_fastupdate_off").TRIGRAM_INDEXES
PENDING_LIST_KB = 4096


def set_pending_list(on: bool):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in TRIGRAM_INDEXES:
            if on:
                schema_editor.execute(
                    f'ALTER INDEX IF EXISTS "{name}" '
                    f"SET (fastupdate = on, gin_pending_list_limit = {PENDING_LIST_KB})"
                )
                continue
            # Back to 0016: what the list holds goes into the index first.
            schema_editor.execute(
                "SELECT gin_clean_pending_list(c.oid) FROM pg_class c "
                "WHERE c.relname = %s AND c.relkind = 'i'",
                [name],
            )
            schema_editor.execute(f'ALTER INDEX IF EXISTS "{name}" RESET (gin_pending_list_limit)')
            schema_editor.execute(f'ALTER INDEX IF EXISTS "{name}" SET (fastupdate = off)')

    return apply


class Migration(migrations.Migration):
    dependencies = [("ops", "0016_trigram_indexes_fastupdate_off")]

    operations = [migrations.RunPython(set_pending_list(True), set_pending_list(False))]
