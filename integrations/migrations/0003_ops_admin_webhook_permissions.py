"""ops_admin manages webhook subscriptions and deliveries (retry, replay) and reads the inbound
message log. Permissions are created first: on a fresh database the post_migrate signal that
normally creates them has not run yet."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPS_ADMIN = "ops_admin"
PERMISSIONS = (
    "view_webhooksubscription",
    "add_webhooksubscription",
    "change_webhooksubscription",
    "delete_webhooksubscription",
    "view_webhookdelivery",
    "change_webhookdelivery",
    "view_webhookattempt",
    "view_inboundmessage",
    "change_inboundmessage",
)


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("integrations")
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
            content_type__app_label="integrations", codename__in=PERMISSIONS
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
                content_type__app_label="integrations", codename__in=PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_webhooks"),
        ("orders", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
