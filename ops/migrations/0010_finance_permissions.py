"""The finance area (ops/admin/finance.py): finance and ops ask for exports and download them;
finance also reads the fulfillment orders and shipments an order page links to."""

from django.db import migrations

from oms.core.migration_grants import grant_permissions

GRANTS = {
    "finance": ("view_financeexport", "add_financeexport"),
    "ops_admin": ("view_financeexport", "add_financeexport"),
}


class Migration(migrations.Migration):
    dependencies = [("ops", "0009_finance_exports"), ("orders", "0002_groups")]

    operations = [grant_permissions("ops", GRANTS)]
