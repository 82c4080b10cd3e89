"""The default "ops" queue, and exception console permissions for ops_admin:
it works cases and manages queues and exception rule sets. Permissions are created first (post_migrate has not run on a fresh database)."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

CRUD = ("add", "change", "delete", "view")

GRANTS = {
    "ops_admin": (
        *(f"{verb}_exceptioncase" for verb in CRUD),
        *(f"{verb}_exceptionruleset" for verb in CRUD),
        *(f"{verb}_exceptionrule" for verb in CRUD),
        *(f"{verb}_queue" for verb in CRUD),
    ),
}


def create_default_queue(apps, schema_editor):
    Queue = apps.get_model("ops", "Queue")
    Queue.objects.using(schema_editor.connection.alias).get_or_create(
        code="ops", defaults={"name": "Operations"}
    )


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_initial"), ("orders", "0002_groups")]

    operations = [
        migrations.RunPython(create_default_queue, migrations.RunPython.noop),
        grant_permissions("ops", GRANTS),
    ]
