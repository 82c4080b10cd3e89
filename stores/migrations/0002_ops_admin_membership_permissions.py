"""ops_admin gives store associates access: it manages store memberships in the admin (the
associate's user must also be in the store_associate group, which orders/migrations/0002_groups
creates). Permissions are created first: on a fresh database the post_migrate signal that
normally creates them has not run yet."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = tuple(f"{verb}_storemembership" for verb in ("add", "change", "delete", "view"))


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("stores")
    app_config.models_module = True  # migration state apps have none; create_permissions
    create_permissions(app_config, apps=apps, verbosity=0, using=using)  # skips such apps
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(
        Permission.objects.using(using).filter(
            content_type__app_label="stores", codename__in=CODENAMES
        )
    )
    if len(permissions) != len(CODENAMES):
        raise LookupError("stores.storemembership permissions do not exist")
    group = Group.objects.using(using).filter(name="ops_admin").first()
    if group is not None:
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(using).filter(name="ops_admin").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.using(using).filter(
                content_type__app_label="stores", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0002_groups"),
        ("stores", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
