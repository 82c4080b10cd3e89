"""The node network's version (NodeNetworkVersion): a new random token whenever a node that
availability reads is added, deleted, truncated or has a column availability reads changed.

Triggers, not Model.save(), so QuerySet.update(), raw SQL and fixtures count too. Inserts,
deletes and truncates bump once per statement; updates once per row that changed one of the
columns (a feed's last_snapshot_at, a capacity or a name do not). On PostgreSQL and SQLite.
"""

import secrets

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The columns get_availability reads (inventory/selectors.py, _availability_sql("nodes")).
COLUMNS = ("id", "code", "kind", "latitude", "longitude", "can_ship", "can_pickup", "is_active")
CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COLUMNS)

POSTGRESQL_FORWARD = f"""
CREATE OR REPLACE FUNCTION inventory_node_network_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_nodenetworkversion (id, token)
    VALUES (1, floor(random() * 9007199254740991)::bigint)
    ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END $$;
CREATE TRIGGER inventory_node_network_rows
    AFTER INSERT OR DELETE OR TRUNCATE ON inventory_node
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_node_network_changed();
CREATE TRIGGER inventory_node_network_update
    AFTER UPDATE ON inventory_node
    FOR EACH ROW WHEN ({CHANGED})
    EXECUTE FUNCTION inventory_node_network_changed();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS inventory_node_network_update ON inventory_node;
DROP TRIGGER IF EXISTS inventory_node_network_rows ON inventory_node;
DROP FUNCTION IF EXISTS inventory_node_network_changed();
"""

_SQLITE_BUMP = "INSERT OR REPLACE INTO inventory_nodenetworkversion (id, token) VALUES (1, random());"
SQLITE_FORWARD = [
    f"CREATE TRIGGER inventory_node_network_insert AFTER INSERT ON inventory_node "
    f"BEGIN {_SQLITE_BUMP} END",
    f"CREATE TRIGGER inventory_node_network_delete AFTER DELETE ON inventory_node "
    f"BEGIN {_SQLITE_BUMP} END",
    f"CREATE TRIGGER inventory_node_network_update AFTER UPDATE ON inventory_node "
    f"WHEN {CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {_SQLITE_BUMP} END",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS inventory_node_network_{event}"
    for event in ("insert", "delete", "update")
]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)
    else:
        raise NotImplementedError(f"node network triggers for {vendor}")
    # Random from the start too: a database restored or recreated under running processes
    # must not match a token they kept.
    apps.get_model("inventory", "NodeNetworkVersion").objects.create(
        id=1, token=secrets.randbits(53)
    )


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0009_reservation_created_idx")]

    operations = [
        migrations.CreateModel(
            name="NodeNetworkVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("token", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
