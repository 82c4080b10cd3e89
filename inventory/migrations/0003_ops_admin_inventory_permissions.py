"""ops_admin (orders/migrations/0002_groups.py) may read the ledger, reservations and feed
messages, and resolve oversells. Permissions are created first: on a fresh database the
post_migrate signal that normally creates them has not run yet."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPS_ADMIN = "ops_admin"
PERMISSIONS = (
    "view_inventorymovement",
    "view_reservation",
    "view_inventoryfeedmessage",
    "view_oversell",
    "change_oversell",
)


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("inventory")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(using).filter(name=OPS_ADMIN).first()
    if group is None:
        return
    group.permissions.add(
        *Permission.objects.using(using).filter(
            content_type__app_label="inventory", codename__in=PERMISSIONS
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    using = schema_editor.connection.alias
    group = Group.objects.using(using).filter(name=OPS_ADMIN).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.using(using).filter(
                content_type__app_label="inventory", codename__in=PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_ledger_reservations_feeds"),
        ("orders", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
