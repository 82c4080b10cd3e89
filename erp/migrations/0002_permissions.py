"""The ERP outbox in the console: finance reads it; ops reads it and sends a dead document
again (change)."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "finance": ("view_erpdocument",),
    "ops_admin": ("view_erpdocument", "change_erpdocument"),
}


class Migration(migrations.Migration):
    dependencies = [("erp", "0001_initial"), ("orders", "0002_groups")]

    operations = [grant_permissions("erp", GRANTS)]
