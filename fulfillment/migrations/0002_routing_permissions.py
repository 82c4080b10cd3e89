"""Routing permissions for the staff groups of orders/migrations/0002_groups.py.

ops_admin drafts, backtests, approves and retires routing rule sets (maker-checker is enforced
by the services, not by permissions) and reads routing decisions; customer_service reads the
routing decisions shown on the order page. Permissions are created first: on a fresh database
the post_migrate signal that normally creates them has not run yet.
"""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

CRUD = ("add", "change", "delete", "view")

GRANTS = {
    "ops_admin": (
        *(f"{verb}_routingruleset" for verb in CRUD),
        *(f"{verb}_backtestreport" for verb in CRUD),
        "view_routingdecision",
    ),
    "customer_service": ("view_routingdecision",),
}


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("fulfillment", "0001_initial"),
        ("orders", "0002_groups"),
    ]

    operations = [grant_permissions("fulfillment", GRANTS)]
