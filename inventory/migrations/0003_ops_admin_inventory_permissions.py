"""ops_admin (orders/migrations/0002_groups.py) may read the ledger, reservations and feed
messages, and resolve oversells. Permissions are created first: on a fresh database the
post_migrate signal that normally creates them has not run yet."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "ops_admin": (
        "view_inventorymovement",
        "view_reservation",
        "view_inventoryfeedmessage",
        "view_oversell",
        "change_oversell",
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_ledger_reservations_feeds"),
        ("orders", "0002_groups"),
    ]

    operations = [grant_permissions("inventory", GRANTS)]
