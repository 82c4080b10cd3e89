"""The default "ops" queue, and exception console permissions for ops_admin:
it works cases and manages queues and exception rule sets. Permissions are created first (post_migrate has not run on a fresh database)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CRUD = ("add", "change", "delete", "view")

GRANTS = {
    "ops_admin": (
        *(f"{verb}_exceptioncase" for verb in CRUD),
        *(f"{verb}_exceptionruleset" for verb in CRUD),
        *(f"{verb}_exceptionrule" for verb in CRUD),
        *(f"{verb}_queue" for verb in CRUD),
    ),
}


def forwards(apps, schema_editor):
    using = schema_editor.connection.alias
    Queue = apps.get_model("ops", "Queue")
    Queue.objects.using(using).get_or_create(code="ops", defaults={"name": "Operations"})
    app_config = apps.get_app_config("ops")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.using(using).filter(
                    content_type__app_label="ops", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_initial"), ("orders", "0002_groups")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
