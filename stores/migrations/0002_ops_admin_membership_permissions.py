"""ops_admin gives store associates access: it manages store memberships in the admin (the
associate's user must also be in the store_associate group, which orders/migrations/0002_groups
creates). Permissions are created first: on a fresh database the post_migrate signal that
normally creates them has not run yet."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "ops_admin": tuple(f"{verb}_storemembership" for verb in ("add", "change", "delete", "view")),
}


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0002_groups"),
        ("stores", "0001_initial"),
    ]

    operations = [grant_permissions("stores", GRANTS)]
