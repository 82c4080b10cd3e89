"""ops_admin manages webhook subscriptions and deliveries (retry, replay) and reads the inbound
message log. Permissions are created first: on a fresh database the post_migrate signal that
normally creates them has not run yet."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "ops_admin": (
        "view_webhooksubscription",
        "add_webhooksubscription",
        "change_webhooksubscription",
        "delete_webhooksubscription",
        "view_webhookdelivery",
        "change_webhookdelivery",
        "view_webhookattempt",
        "view_inboundmessage",
        "change_inboundmessage",
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_webhooks"),
        ("orders", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [grant_permissions("integrations", GRANTS)]
