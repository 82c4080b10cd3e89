"""The order search's trigram GIN indexes (0007) without a pending list (fastupdate = off).

With fastupdate on (PostgreSQL's default), an insert appends its trigrams to the index's pending
list, and whichever insert finds the list over gin_pending_list_limit (4 MB, about 7,600 orders
per index here) merges the whole list into the index inline: one capture in thousands paid 67 ms
at 20,000 orders and 120 ms at 1,000,000 (bench/history_bench.py's databases), growing with the
index, since autovacuum, which would flush it first, only visits orders_order after 20% of the
table has been inserted (200,000 orders at a million). Every search also reads the whole pending
list. With fastupdate off each insert updates the index directly: the same mean insert cost
(2.63 / 2.69 ms per order row with the five order indexes, against 2.63 / 2.73 with the list),
and no flush: the worst insert of 9,000 took 16 / 29 ms (docs/performance.md, "Flat with
history"). The indexes and what the search finds are unchanged."""

from django.db import migrations

# The indexes of ops 0007 (absent where pg_trgm could not be created: IF EXISTS).
TRIGRAM_INDEXES = (
    "ops_trgm_order_number",
    "ops_trgm_order_external_id",
    "ops_trgm_order_email",
    "ops_trgm_order_name",
    "ops_trgm_order_phone",
    "ops_trgm_line_sku",
    "ops_trgm_fo_number",
    "ops_trgm_shipment_tracking",
)


def set_fastupdate(value: str):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in TRIGRAM_INDEXES:
            if value == "off":
                # What the pending list holds goes into the index first (no-op when empty).
                schema_editor.execute(
                    "SELECT gin_clean_pending_list(c.oid) FROM pg_class c "
                    "WHERE c.relname = %s AND c.relkind = 'i'",
                    [name],
                )
            schema_editor.execute(f'ALTER INDEX IF EXISTS "{name}" SET (fastupdate = {value})')

    return apply


class Migration(migrations.Migration):
    dependencies = [("ops", "0015_kpi_rollups")]

    operations = [migrations.RunPython(set_fastupdate("off"), set_fastupdate("on"))]
