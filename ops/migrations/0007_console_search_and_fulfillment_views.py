"""The console's fulfillment and shipment pages (ops/admin/fulfillments.py): customer service
and ops read them. And trigram indexes behind the order search (number, external id, customer
email, name and phone, fulfillment number, tracking number, SKU: ops/admin/orders.py), on
PostgreSQL only: the admin's `icontains` is `UPPER(col::text) LIKE UPPER('%q%')`, which a GIN
trigram index on that expression serves. Where pg_trgm cannot be created (no privilege), the
indexes are skipped and the search still works, by scan; SQLite (the demo) scans too."""

import logging

from django.db import migrations, transaction

from oms.core.migration_grants import grant_permissions

logger = logging.getLogger(__name__)

GRANTS = {
    "customer_service": (
        "view_fulfillmentorder",
        "view_fulfillmentorderline",
        "view_shipment",
        "view_trackingevent",
    ),
    "ops_admin": (
        "view_fulfillmentorder",
        "view_fulfillmentorderline",
        "view_shipment",
        "view_trackingevent",
    ),
}

# (index name, table, column)
TRIGRAM_INDEXES = (
    ("ops_trgm_order_number", "orders_order", "number"),
    ("ops_trgm_order_external_id", "orders_order", "external_id"),
    ("ops_trgm_order_email", "orders_order", "customer_email"),
    ("ops_trgm_order_name", "orders_order", "customer_name"),
    ("ops_trgm_order_phone", "orders_order", "customer_phone"),
    ("ops_trgm_line_sku", "orders_orderline", "sku"),
    ("ops_trgm_fo_number", "fulfillment_fulfillmentorder", "number"),
    ("ops_trgm_shipment_tracking", "fulfillment_shipment", "tracking_number"),
)


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - no privilege: search works without the indexes
        logger.warning("pg_trgm unavailable, order search indexes skipped: %s", exc)
        return
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0006_exception_kind_pickup_locked"),
        ("orders", "0006_money_20_4"),
        ("fulfillment", "0007_pickup_code_attempts"),
    ]

    operations = [
        grant_permissions("fulfillment", GRANTS),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
