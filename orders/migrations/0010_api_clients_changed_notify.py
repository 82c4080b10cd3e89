"""NOTIFY oms_api_clients_changed (oms.api.clients.API_CLIENTS_CHANGED) whenever a row of the
API clients or of the channels they speak for is changed, deleted or truncated: the web
processes keep authenticated keys per process and forget them all on it
(oms/api/authentication.py, _ClientCache). Triggers, not Model.save(), so QuerySet.update(), raw
SQL and fixtures count too; once per statement (PostgreSQL folds the same notification within a
transaction into one, sent when it commits). PostgreSQL only: elsewhere nothing is kept.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CHANNEL = "oms_api_clients_changed"  # oms.api.clients.API_CLIENTS_CHANGED, as of this migration
TABLES = ("orders_apiclient", "orders_channel")

POSTGRESQL_FORWARD = f"""
CREATE OR REPLACE FUNCTION orders_api_clients_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END $$;
""" + "".join(
    f"""
CREATE TRIGGER {table}_changed_notify
    AFTER UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION orders_api_clients_changed();
"""
    for table in TABLES
)
POSTGRESQL_BACKWARD = "".join(
    f"DROP TRIGGER IF EXISTS {table}_changed_notify ON {table};\n" for table in TABLES
) + "DROP FUNCTION IF EXISTS orders_api_clients_changed();\n"


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_line_status_handed_back")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
