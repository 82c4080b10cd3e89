"""Finance sees the finance area and the order read pages, nothing else (issue 12): the
Channels and Events menus go. The order page's own timeline needs only the order
(ops/admin/orders.py); the event log and the channel records are for customer service and ops."""

from django.db import migrations

from oms.core.migration_grants import revoke_permissions


class Migration(migrations.Migration):
    dependencies = [("ops", "0010_finance_permissions"), ("orders", "0002_groups")]

    operations = [
        revoke_permissions("orders", {"finance": ("view_channel",)}),
        revoke_permissions("events", {"finance": ("view_event",)}),
    ]
