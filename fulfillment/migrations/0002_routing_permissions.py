"""Routing permissions for the staff groups of orders/migrations/0002_groups.py.

ops_admin drafts, backtests, approves and retires routing rule sets (maker-checker is enforced
by the services, not by permissions) and reads routing decisions; customer_service reads the
routing decisions shown on the order page. Permissions are created first: on a fresh database
the post_migrate signal that normally creates them has not run yet.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CRUD = ("add", "change", "delete", "view")

GRANTS = {
    "ops_admin": (
        *(f"{verb}_routingruleset" for verb in CRUD),
        *(f"{verb}_backtestreport" for verb in CRUD),
        "view_routingdecision",
    ),
    "customer_service": ("view_routingdecision",),
}


def _permissions(apps, using, codenames):
    Permission = apps.get_model("auth", "Permission")
    found = list(
        Permission.objects.using(using).filter(
            content_type__app_label="fulfillment", codename__in=codenames
        )
    )
    missing = set(codenames) - {p.codename for p in found}
    if missing:
        raise LookupError(f"fulfillment permissions do not exist: {sorted(missing)}")
    return found


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("fulfillment")
    app_config.models_module = True  # migration state apps have none; create_permissions
    create_permissions(app_config, apps=apps, verbosity=0, using=using)  # skips such apps
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, using, codenames))


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.using(using).filter(
                    content_type__app_label="fulfillment", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("fulfillment", "0001_initial"),
        ("orders", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
