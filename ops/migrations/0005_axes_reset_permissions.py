"""ops_admin resets sign-in lockouts (django-axes, docs/security.md): it sees the access
attempts, logs and failure logs in the admin and deletes an attempt to unlock that
(username, IP). Permissions are created first (post_migrate has not run on a fresh database)."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "ops_admin": (
        "view_accessattempt",
        "delete_accessattempt",
        "view_accesslog",
        "view_accessfailurelog",
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0004_exception_kind_cycle_count"),
        ("orders", "0002_groups"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [grant_permissions("axes", GRANTS)]
