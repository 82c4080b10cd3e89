"""ops_admin sets channels up (connections: platform, endpoint, secrets, toggles, mapping) and
works the outbox of calls back to the platforms (send a dead call again). Permissions are created first: on a fresh database the post_migrate signal
that normally creates them has not run yet."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "ops_admin": (
        "view_channelconnection",
        "add_channelconnection",
        "change_channelconnection",
        "delete_channelconnection",
        "view_outboundcall",
        "change_outboundcall",
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0001_initial"),
        ("orders", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [grant_permissions("channels", GRANTS)]
