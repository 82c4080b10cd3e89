"""On PostgreSQL the immutability trigger refuses UPDATE always, and DELETE unless the
transaction set `oms.events_archive` to 'on' (SET LOCAL): only the archive command does, after
exporting the rows (ops/services/event_archive.py, docs/adr/0016-event-log-archive.md).
Nothing to do elsewhere (SQLite has no trigger)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FORWARD = """
CREATE OR REPLACE FUNCTION events_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('oms.events_archive', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'events are immutable (% on events_event refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""
BACKWARD = """
CREATE OR REPLACE FUNCTION events_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable (% on events_event refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("events", "0004_redaction")]
    operations = [migrations.RunPython(forward, backward)]
