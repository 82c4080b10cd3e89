"""Staff groups for the admin.

Permissions are normally created by a post_migrate signal, i.e. after *all* migrations, so on a
fresh database they do not exist yet when this runs: create them first (the standard pattern),
then give each group exactly the permissions listed below. Reversing deletes the groups.

Note that placing and releasing holds in the admin needs orders.change_order and
orders.change_hold respectively; the admin's pages stay read-only for everyone.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APP_LABELS = ("orders", "inventory", "events", "api")
CRUD = ("add", "change", "delete", "view")


def _all(app_label, model):
    return [(app_label, f"{verb}_{model}") for verb in CRUD]


GROUPS = {
    "customer_service": [
        ("orders", "view_order"),
        ("orders", "view_orderline"),
        ("orders", "view_hold"),
        ("orders", "view_channel"),
        ("events", "view_event"),
        ("orders", "change_order"),
        ("orders", "change_hold"),
    ],
    "store_associate": [
        ("orders", "view_order"),
        ("inventory", "view_node"),
        ("inventory", "view_product"),
        ("inventory", "view_stocklevel"),
    ],
    "finance": [
        ("orders", "view_order"),
        ("orders", "view_orderline"),
        ("events", "view_event"),
        ("orders", "view_channel"),
    ],
    "ops_admin": [
        *_all("orders", "order"),
        *_all("orders", "orderline"),
        *_all("orders", "hold"),
        *_all("orders", "channel"),
        *_all("orders", "apiclient"),
        *_all("inventory", "node"),
        *_all("inventory", "product"),
        *_all("inventory", "stocklevel"),
        ("events", "view_event"),
        ("api", "view_idempotencykey"),
    ],
}


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    for label in APP_LABELS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # migration state apps have none; create_permissions
        create_permissions(app_config, apps=apps, verbosity=0, using=using)  # skips such apps
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        permissions = []
        for app_label, codename in wanted:
            try:
                permissions.append(
                    Permission.objects.using(using).get(
                        content_type__app_label=app_label, codename=codename
                    )
                )
            except Permission.DoesNotExist:
                raise LookupError(f"permission {app_label}.{codename} does not exist") from None
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions)


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0001_initial"),
        ("inventory", "0001_initial"),
        ("events", "0002_immutable_trigger"),
        ("api", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
